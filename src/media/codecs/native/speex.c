/* The relay's binding to libspeex (narrowband 8 kHz, wideband 16 kHz, ultra-wideband 32 kHz),
 * N-API. A speex frame is 20 ms (160, 320 or 640 samples). An encoder call packs every whole frame
 * of the caller's buffer into one packet; a decoder call decodes every frame of a packet: one
 * native call per packet, no allocation (the bit buffers are the codec's own, sized at creation). */
#include <speex/speex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAME 640
/* libspeex's own bit buffer holds this many bytes without growing. */
#define MAX_PACKET 2000
/* A hostile packet cannot make one call decode more than this many frames. */
#define MAX_FRAMES 16

typedef struct {
  void *state;
  int encoder;
  int frame;
  SpeexBits bits;
} coder_t;

static void release(coder_t *c) {
  if (!c->state) return;
  if (c->encoder) speex_encoder_destroy(c->state);
  else speex_decoder_destroy(c->state);
  speex_bits_destroy(&c->bits);
  c->state = NULL;
}

#include "codec_binding.h"

static const SpeexMode *mode_for(int32_t rate) {
  switch (rate) {
    case 8000: return speex_lib_get_mode(SPEEX_MODEID_NB);
    case 16000: return speex_lib_get_mode(SPEEX_MODEID_WB);
    case 32000: return speex_lib_get_mode(SPEEX_MODEID_UWB);
    default: return NULL;
  }
}

static napi_value make(napi_env env, int encoder, int32_t rate, int32_t bitrate) {
  const SpeexMode *mode = mode_for(rate);
  if (!mode) {
    napi_throw_range_error(env, NULL, "speex runs at 8000, 16000 or 32000 Hz");
    return NULL;
  }
  coder_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->encoder = encoder;
  c->state = encoder ? speex_encoder_init(mode) : speex_decoder_init(mode);
  if (!c->state) {
    free(c);
    napi_throw_error(env, NULL, "libspeex could not make a codec");
    return NULL;
  }
  speex_bits_init(&c->bits);
  if (encoder) {
    spx_int32_t b = bitrate;
    if (b > 0) speex_encoder_ctl(c->state, SPEEX_SET_BITRATE, &b);
    speex_encoder_ctl(c->state, SPEEX_GET_FRAME_SIZE, &c->frame);
  } else {
    speex_decoder_ctl(c->state, SPEEX_GET_FRAME_SIZE, &c->frame);
  }
  return wrap_coder(env, c);
}

/* encoder(rate, bitrate): constant bit rate, the mode's nearest rate at or below `bitrate`. */
static napi_value encoder(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  return make(env, 1, arg_i32(env, a[0]), arg_i32(env, a[1]));
}

/* decoder(rate) */
static napi_value decoder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  return make(env, 0, arg_i32(env, a[0]), 0);
}

/* encode(coder, pcm Int16Array, samples, out Uint8Array) -> bytes written, or -1 */
static napi_value encode(napi_env env, napi_callback_info info) {
  pcm_args_t e;
  if (!read_pcm_args(env, info, napi_uint8_array, &e)) return num(env, -1);
  coder_t *c = e.c;
  /* The encoded size is checked once the frames are in (speex's frames vary with the mode). */
  size_t frames;
  if (!c || !c->state || !c->encoder || !(frames = whole_frames(&e, c->frame, 0))) return num(env, -1);
  if (frames > MAX_FRAMES) return num(env, -1);
  speex_bits_reset(&c->bits);
  /* libspeex may overwrite its input: it gets a copy, the caller's samples stay as they were. */
  spx_int16_t frame[MAX_FRAME];
  for (size_t f = 0; f < frames; f++) {
    memcpy(frame, e.pcm + (size_t) f * c->frame, (size_t) c->frame * sizeof frame[0]);
    speex_encode_int(c->state, frame, &c->bits);
  }
  speex_bits_insert_terminator(&c->bits);
  if ((size_t) speex_bits_nbytes(&c->bits) > e.out_len) return num(env, -1);
  return num(env, speex_bits_write(&c->bits, (char *) e.out, (int) e.out_len));
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array) -> samples written, or -1 when
 * no frame decodes (a bad mode, an empty or too long payload, no room). */
static napi_value decode(napi_env env, napi_callback_info info) {
  payload_args_t d;
  if (!read_payload_args(env, info, &d)) return num(env, -1);
  coder_t *c = d.c;
  if (!c || !c->state || c->encoder || d.len == 0 || d.len > MAX_PACKET) return num(env, -1);
  speex_bits_read_from(&c->bits, (char *) d.data + d.off, d.len);
  size_t written = 0;
  for (int f = 0; f < MAX_FRAMES && written + (size_t) c->frame <= d.out_len; f++) {
    if (speex_bits_remaining(&c->bits) < 5) break;
    int r = speex_decode_int(c->state, &c->bits, d.out + written);
    if (r == -1) break;
    if (r != 0) return num(env, -1);
    written += (size_t) c->frame;
  }
  return num(env, written > 0 ? (double) written : -1);
}

CODEC_MODULE(CODEC_METHOD("encoder", encoder), CODEC_METHOD("decoder", decoder))
