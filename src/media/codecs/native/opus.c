/* The relay's binding to libopus (N-API, one instance per thread that loads it).
 * Buffers are the caller's typed arrays: no copy, no allocation per frame. */
#include <opus/opus.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
  OpusEncoder *enc;
  OpusDecoder *dec;
  int channels;
} coder_t;

static void release(coder_t *c) {
  if (c->enc) opus_encoder_destroy(c->enc);
  if (c->dec) opus_decoder_destroy(c->dec);
  c->enc = NULL;
  c->dec = NULL;
}

#include "codec_binding.h"

static napi_value make(napi_env env, coder_t *c, int err) {
  if (err != OPUS_OK) {
    finalize(env, c, NULL);
    napi_throw_error(env, NULL, opus_strerror(err));
    return NULL;
  }
  return wrap_coder(env, c);
}

/* encoder(rate, channels, application, bitrate, fec, complexity) */
static napi_value encoder(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = calloc(1, sizeof *c);
  int err;
  int app = arg_i32(env, a[2]) == 1 ? OPUS_APPLICATION_AUDIO : OPUS_APPLICATION_VOIP;
  c->channels = arg_i32(env, a[1]);
  c->enc = opus_encoder_create(arg_i32(env, a[0]), c->channels, app, &err);
  if (err == OPUS_OK) {
    int32_t bitrate = arg_i32(env, a[3]);
    if (bitrate > 0) opus_encoder_ctl(c->enc, OPUS_SET_BITRATE(bitrate));
    opus_encoder_ctl(c->enc, OPUS_SET_INBAND_FEC(arg_i32(env, a[4])));
    opus_encoder_ctl(c->enc, OPUS_SET_COMPLEXITY(arg_i32(env, a[5])));
  }
  return make(env, c, err);
}

/* decoder(rate, channels) */
static napi_value decoder(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = calloc(1, sizeof *c);
  int err;
  c->channels = arg_i32(env, a[1]);
  c->dec = opus_decoder_create(arg_i32(env, a[0]), c->channels, &err);
  return make(env, c, err);
}

/* encode(coder, pcm Int16Array, frameSize, out Uint8Array) -> bytes, or a negative libopus error */
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = arg_external(env, a[0]);
  size_t pn, on;
  int16_t *pcm = arg_array(env, a[1], napi_int16_array, &pn);
  uint8_t *out = arg_array(env, a[3], napi_uint8_array, &on);
  int32_t frame = arg_i32(env, a[2]);
  if (!c || !c->enc || !pcm || !out || frame <= 0 || (size_t) frame > pn) return num(env, OPUS_BAD_ARG);
  return num(env, opus_encode(c->enc, pcm, frame, out, (opus_int32) on));
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array, fec) -> samples per channel,
 * or a negative libopus error; length 0 conceals a lost frame. */
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  coder_t *c = arg_external(env, a[0]);
  size_t dn, on;
  uint8_t *data = arg_array(env, a[1], napi_uint8_array, &dn);
  int32_t off = arg_i32(env, a[2]);
  int32_t len = arg_i32(env, a[3]);
  int16_t *out = arg_array(env, a[4], napi_int16_array, &on);
  if (!c || !c->dec || !out || off < 0 || len < 0 || (size_t) off + (size_t) len > dn) return num(env, OPUS_BAD_ARG);
  return num(env, opus_decode(c->dec, len ? data + off : NULL, len, out, (int) (on / (size_t) c->channels), arg_i32(env, a[5])));
}

CODEC_MODULE(CODEC_METHOD("encoder", encoder), CODEC_METHOD("decoder", decoder))
