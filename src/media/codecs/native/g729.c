/* The relay's binding to bcg729 (G.729 Annex A encoder, G.729 with Annex B decoder), N-API.
 * A G.729 frame is 10 ms: 80 samples in, 10 bytes out. A call encodes or decodes every whole
 * frame of the caller's buffer: one native call per packet, no copy, no allocation. */
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <stdint.h>
#include <stdlib.h>

#define FRAME_SAMPLES 80
#define FRAME_BYTES 10
/* An Annex B silence descriptor (SID) frame. */
#define SID_BYTES 2

typedef struct {
  bcg729EncoderChannelContextStruct *enc;
  bcg729DecoderChannelContextStruct *dec;
} coder_t;

static void release(coder_t *c) {
  if (c->enc) closeBcg729EncoderChannel(c->enc);
  if (c->dec) closeBcg729DecoderChannel(c->dec);
  c->enc = NULL;
  c->dec = NULL;
}

#include "codec_binding.h"

static napi_value make(napi_env env, coder_t *c) {
  if (!c->enc && !c->dec) {
    free(c);
    napi_throw_error(env, NULL, "bcg729 could not make a codec");
    return NULL;
  }
  return wrap_coder(env, c);
}

/* encoder(): no voice activity detection, so every frame is a full 10-byte frame (annexb=no). */
static napi_value encoder(napi_env env, napi_callback_info info) {
  (void) info;
  coder_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->enc = initBcg729EncoderChannel(0);
  return make(env, c);
}

static napi_value decoder(napi_env env, napi_callback_info info) {
  (void) info;
  coder_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->dec = initBcg729DecoderChannel();
  return make(env, c);
}

/* encode(coder, pcm Int16Array, samples, out Uint8Array) -> bytes written, or -1 */
static napi_value encode(napi_env env, napi_callback_info info) {
  pcm_args_t e;
  size_t frames;
  if (!read_pcm_args(env, info, napi_uint8_array, &e) || !e.c || !e.c->enc || !(frames = whole_frames(&e, FRAME_SAMPLES, FRAME_BYTES))) return num(env, -1);
  uint8_t *out = e.out;
  size_t written = 0;
  for (size_t f = 0; f < frames; f++) {
    uint8_t len = 0;
    bcg729Encoder(e.c->enc, e.pcm + f * FRAME_SAMPLES, out + written, &len);
    written += len;
  }
  return num(env, (double) written);
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array) -> samples written, or -1.
 * A payload is whole 10-byte frames, optionally ended by one 2-byte SID frame (RFC 3551);
 * a length of 0 conceals one lost frame. */
static napi_value decode(napi_env env, napi_callback_info info) {
  payload_args_t d;
  if (!read_payload_args(env, info, &d) || !d.c || !d.c->dec) return num(env, -1);
  int16_t *out = d.out;
  if (d.len == 0) {
    if (d.out_len < FRAME_SAMPLES) return num(env, -1);
    static const uint8_t none[FRAME_BYTES];
    bcg729Decoder(d.c->dec, none, FRAME_BYTES, 1, 0, 0, out);
    return num(env, FRAME_SAMPLES);
  }
  size_t frames = (size_t) d.len / FRAME_BYTES;
  size_t rest = (size_t) d.len % FRAME_BYTES;
  if (rest != 0 && rest != SID_BYTES) return num(env, -1);
  size_t total = frames + (rest ? 1 : 0);
  if (total * FRAME_SAMPLES > d.out_len) return num(env, -1);
  const uint8_t *p = d.data + d.off;
  for (size_t f = 0; f < frames; f++) bcg729Decoder(d.c->dec, p + f * FRAME_BYTES, FRAME_BYTES, 0, 0, 0, out + f * FRAME_SAMPLES);
  if (rest) bcg729Decoder(d.c->dec, p + frames * FRAME_BYTES, SID_BYTES, 0, 1, 0, out + frames * FRAME_SAMPLES);
  return num(env, (double) (total * FRAME_SAMPLES));
}

CODEC_MODULE(CODEC_METHOD("encoder", encoder), CODEC_METHOD("decoder", decoder))
