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
  pcm_args_t e;
  if (!read_pcm_args(env, info, napi_uint8_array, &e) || !e.c || !e.c->enc || e.samples == 0) return num(env, OPUS_BAD_ARG);
  return num(env, opus_encode(e.c->enc, e.pcm, e.samples, e.out, (opus_int32) e.out_len));
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array, fec) -> samples per channel,
 * or a negative libopus error; length 0 conceals a lost frame. */
static napi_value decode(napi_env env, napi_callback_info info) {
  payload_args_t d;
  if (!read_payload_args(env, info, &d) || !d.c || !d.c->dec) return num(env, OPUS_BAD_ARG);
  return num(env, opus_decode(d.c->dec, d.len ? d.data + d.off : NULL, d.len, d.out, (int) (d.out_len / (size_t) d.c->channels), arg_i32(env, d.extra)));
}

CODEC_MODULE(CODEC_METHOD("encoder", encoder), CODEC_METHOD("decoder", decoder))
