/* What every codec binding repeats, N-API side: the coder handle's lifetime, number results,
 * close() and the module's exports. Include it after defining `coder_t` and
 * `static void release(coder_t *)` (frees the codec state, may run twice). */
#ifndef NGRELAY_CODEC_BINDING_H
#define NGRELAY_CODEC_BINDING_H
#include <node_api.h>
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
