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
  pcm_args_t e;
  size_t frames;
  if (!read_pcm_args(env, info, napi_uint8_array, &e) || !e.c || !e.c->g || !(frames = whole_frames(&e, FRAME_SAMPLES, FRAME_BYTES))) return num(env, -1);
  uint8_t *out = e.out;
  for (size_t f = 0; f < frames; f++) gsm_encode(e.c->g, e.pcm + f * FRAME_SAMPLES, out + f * FRAME_BYTES);
  return num(env, (double) (frames * FRAME_BYTES));
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array) -> samples written, or -1.
 * A payload is whole 33-byte frames, each with the GSM signature; anything else is refused
 * before any frame is decoded. */
static napi_value decode(napi_env env, napi_callback_info info) {
  payload_args_t d;
  if (!read_payload_args(env, info, &d) || !d.c || !d.c->g || d.len == 0 || d.len % FRAME_BYTES != 0) return num(env, -1);
  size_t frames = (size_t) d.len / FRAME_BYTES;
  if (frames * FRAME_SAMPLES > d.out_len) return num(env, -1);
  uint8_t *p = d.data + d.off;
  for (size_t f = 0; f < frames; f++)
    if (p[f * FRAME_BYTES] >> 4 != MAGIC) return num(env, -1);
  for (size_t f = 0; f < frames; f++)
    if (gsm_decode(d.c->g, p + f * FRAME_BYTES, d.out + f * FRAME_SAMPLES) != 0) return num(env, -1);
  return num(env, (double) (frames * FRAME_SAMPLES));
}

CODEC_MODULE(CODEC_METHOD("create", create))
