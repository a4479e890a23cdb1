/* The relay's binding to libgsm (GSM 06.10 full rate), N-API. A GSM frame is 20 ms: 160 samples
 * in, 33 bytes out. A call encodes or decodes every whole frame of the caller's buffer: one
 * native call per packet, no copy, no allocation. */
#include <gsm.h>
#include <stdint.h>
#include <stdlib.h>

#define FRAME_SAMPLES 160
#define FRAME_BYTES 33
/* Every RFC 3551 GSM frame starts with this signature in its high nibble. */
#define MAGIC 0xD

typedef struct {
  gsm g;
} coder_t;

static void release(coder_t *c) {
  if (c->g) gsm_destroy(c->g);
  c->g = NULL;
}

#include "codec_binding.h"

/* create(): one state serves either direction; the relay makes one per encoder and decoder. */
static napi_value create(napi_env env, napi_callback_info info) {
  (void) info;
  coder_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->g = gsm_create();
  if (!c->g) {
    free(c);
    napi_throw_error(env, NULL, "libgsm could not make a codec");
    return NULL;
  }
  return wrap_coder(env, c);
}

/* encode(coder, pcm Int16Array, samples, out Uint8Array) -> bytes written, or -1 */
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = arg_external(env, a[0]);
  size_t pn, on;
  int16_t *pcm = arg_array(env, a[1], napi_int16_array, &pn);
  uint8_t *out = arg_array(env, a[3], napi_uint8_array, &on);
  int32_t samples = arg_i32(env, a[2]);
  if (!c || !c->g || !pcm || !out || samples <= 0 || samples % FRAME_SAMPLES != 0 || (size_t) samples > pn) return num(env, -1);
  size_t frames = (size_t) samples / FRAME_SAMPLES;
  if (frames * FRAME_BYTES > on) return num(env, -1);
  for (size_t f = 0; f < frames; f++) gsm_encode(c->g, pcm + f * FRAME_SAMPLES, out + f * FRAME_BYTES);
  return num(env, (double) (frames * FRAME_BYTES));
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array) -> samples written, or -1.
 * A payload is whole 33-byte frames, each with the GSM signature; anything else is refused
 * before any frame is decoded. */
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = arg_external(env, a[0]);
  size_t dn, on;
  uint8_t *data = arg_array(env, a[1], napi_uint8_array, &dn);
  int32_t off = arg_i32(env, a[2]);
  int32_t len = arg_i32(env, a[3]);
  int16_t *out = arg_array(env, a[4], napi_int16_array, &on);
  if (!c || !c->g || !data || !out || off < 0 || len <= 0 || len % FRAME_BYTES != 0 || (size_t) off + (size_t) len > dn) return num(env, -1);
  size_t frames = (size_t) len / FRAME_BYTES;
  if (frames * FRAME_SAMPLES > on) return num(env, -1);
  uint8_t *p = data + off;
  for (size_t f = 0; f < frames; f++)
    if (p[f * FRAME_BYTES] >> 4 != MAGIC) return num(env, -1);
  for (size_t f = 0; f < frames; f++)
    if (gsm_decode(c->g, p + f * FRAME_BYTES, out + f * FRAME_SAMPLES) != 0) return num(env, -1);
  return num(env, (double) (frames * FRAME_SAMPLES));
}

CODEC_MODULE(CODEC_METHOD("create", create))
