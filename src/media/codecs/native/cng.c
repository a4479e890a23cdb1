/* The relay's binding to libavcodec's RFC 3389 comfort-noise decoder, N-API. rtpengine decodes CN
 * with this decoder, so noise made here is sample for sample what rtpengine makes (its noise
 * generator starts from a fixed seed per decoder; its filter runs in float arithmetic that a
 * port would have to reproduce). A CN payload (level byte, optional reflection coefficients)
 * decodes to one packet's worth of noise at 8 kHz; the packet's size is fixed at creation. */
#include <libavcodec/avcodec.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The decoder's filter buffer holds 640 samples (80 ms). */
#define MAX_SAMPLES 640
/* A level byte and up to 12 reflection coefficients; more are ignored by the decoder. */
#define MAX_PAYLOAD 64

typedef struct {
  AVCodecContext *ctx;
  AVPacket *pkt;
  AVFrame *frame;
  int samples;
} coder_t;

static void release(coder_t *c) {
  if (c->ctx) avcodec_free_context(&c->ctx);
  if (c->pkt) av_packet_free(&c->pkt);
  if (c->frame) av_frame_free(&c->frame);
}

#include "codec_binding.h"

/* create(samples): a decoder that makes `samples` samples (1-640) per CN payload. */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t samples = arg_i32(env, a[0]);
  if (samples <= 0 || samples > MAX_SAMPLES) {
    napi_throw_range_error(env, NULL, "comfort noise: samples per payload must be 1-640");
    return NULL;
  }
  const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_COMFORT_NOISE);
  coder_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->samples = samples;
  if (codec) c->ctx = avcodec_alloc_context3(codec);
  /* The payload is copied into a buffer of the packet's own, padded as libavcodec wants. */
  c->pkt = av_packet_alloc();
  c->frame = av_frame_alloc();
  if (!c->ctx || !c->pkt || !c->frame || avcodec_open2(c->ctx, codec, NULL) < 0 ||
      av_new_packet(c->pkt, MAX_PAYLOAD) < 0) {
    release(c);
    free(c);
    napi_throw_error(env, NULL, "libavcodec could not make a comfort-noise decoder");
    return NULL;
  }
  return wrap_coder(env, c);
}

/* The decoder only decodes. */
static napi_value encode(napi_env env, napi_callback_info info) {
  (void) info;
  return num(env, -1);
}

/* decode(coder, data Uint8Array, offset, length, out Int16Array) -> samples written, or -1. */
static napi_value decode(napi_env env, napi_callback_info info) {
  payload_args_t d;
  if (!read_payload_args(env, info, &d)) return num(env, -1);
  coder_t *c = d.c;
  if (!c || !c->ctx || d.len == 0 || (size_t) c->samples > d.out_len) return num(env, -1);
  int32_t len = d.len > MAX_PAYLOAD ? MAX_PAYLOAD : d.len;
  int16_t *out = d.out;
  /* The packet's own padded buffer is reused: the decoder is done with it once the frame is out. */
  memcpy(c->pkt->data, d.data + d.off, (size_t) len);
  c->pkt->size = len;
  c->ctx->frame_size = c->samples;
  int ret = avcodec_send_packet(c->ctx, c->pkt);
  if (ret < 0) return num(env, -1);
  int n = -1;
  while (avcodec_receive_frame(c->ctx, c->frame) == 0) {
    if (n < 0 && c->frame->format == AV_SAMPLE_FMT_S16 && c->frame->nb_samples <= c->samples) {
      n = c->frame->nb_samples;
      memcpy(out, c->frame->data[0], (size_t) n * sizeof *out);
    }
    av_frame_unref(c->frame);
  }
  return num(env, (double) n);
}

CODEC_MODULE(CODEC_METHOD("create", create))
