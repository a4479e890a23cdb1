/* What every codec binding repeats, N-API side: the coder handle's lifetime, number results,
 * reading encode's and decode's arguments, close() and the module's exports. Include it after defining `coder_t` and
 * `static void release(coder_t *)` (frees the codec state, may run twice). */
#ifndef NGRELAY_CODEC_BINDING_H
#define NGRELAY_CODEC_BINDING_H
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include "napi_args.h"

static void finalize(napi_env env, void *data, void *hint) {
  (void) env; (void) hint;
  release(data);
  free(data);
}

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

/* The JavaScript handle of a coder; garbage collection frees it if close() was not called. */
static napi_value wrap_coder(napi_env env, coder_t *c) {
  napi_value r;
  napi_create_external(env, c, finalize, NULL, &r);
  return r;
}

/* close(coder): frees the codec now rather than at garbage collection. */
static napi_value close_coder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = arg_external(env, a[0]);
  if (c) release(c);
  return NULL;
}

/* The arguments of encode(coder, pcm Int16Array, samples, out, ...) and of calls shaped like it:
 * `out` is a typed array of the type the call writes. */
typedef struct {
  coder_t *c;
  int16_t *pcm;
  size_t pcm_len; /* elements */
  int32_t samples;
  void *out;
  size_t out_len; /* elements */
} pcm_args_t;

/* Reads them; false when an array is missing or `samples` is negative or more than pcm holds
 * (each call refuses what else it cannot take, e.g. 0 samples or a missing coder). */
static inline int read_pcm_args(napi_env env, napi_callback_info info, napi_typedarray_type out_type, pcm_args_t *r) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  r->c = arg_external(env, a[0]);
  r->pcm = arg_array(env, a[1], napi_int16_array, &r->pcm_len);
  r->out = arg_array(env, a[3], out_type, &r->out_len);
  r->samples = arg_i32(env, a[2]);
  return r->pcm && r->out && r->samples >= 0 && (size_t) r->samples <= r->pcm_len;
}

/* How many whole frames of `frame` samples the call's pcm holds, each `bytes` long at most
 * once encoded: 0 when there is none, samples that are not whole frames, or too little room. */
static inline size_t whole_frames(const pcm_args_t *e, int32_t frame, size_t bytes) {
  if (e->samples == 0 || e->samples % frame != 0) return 0;
  size_t frames = (size_t) (e->samples / frame);
  return frames * bytes > e->out_len ? 0 : frames;
}

/* The arguments of decode(coder, data Uint8Array, offset, length, out Int16Array, extra). */
typedef struct {
  coder_t *c;
  uint8_t *data;
  size_t data_len;
  int32_t off;
  int32_t len;
  int16_t *out;
  size_t out_len; /* samples */
  napi_value extra; /* a codec's own last argument (opus: fec) */
} payload_args_t;

/* Reads them; false when `out` is missing or offset and length do not lie within data
 * (length 0 passes: codecs that conceal a lost frame take it, the others refuse it). */
static inline int read_payload_args(napi_env env, napi_callback_info info, payload_args_t *r) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  r->c = arg_external(env, a[0]);
  r->data = arg_array(env, a[1], napi_uint8_array, &r->data_len);
  r->off = arg_i32(env, a[2]);
  r->len = arg_i32(env, a[3]);
  r->out = arg_array(env, a[4], napi_int16_array, &r->out_len);
  r->extra = a[5];
  return r->out && r->off >= 0 && r->len >= 0 && (size_t) r->off + (size_t) r->len <= r->data_len;
}

#define CODEC_METHOD(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL }

/* The module exports the given constructors plus encode, decode and close. */
#define CODEC_MODULE(...)                                                      \
  NAPI_MODULE_INIT() {                                                         \
    napi_property_descriptor p[] = {                                           \
      __VA_ARGS__,                                                             \
      CODEC_METHOD("encode", encode),                                          \
      CODEC_METHOD("decode", decode),                                          \
      CODEC_METHOD("close", close_coder),                                      \
    };                                                                         \
    napi_define_properties(env, exports, sizeof p / sizeof p[0], p);           \
    return exports;                                                            \
  }

#endif
