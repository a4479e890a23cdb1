/* The relay's binding to libspandsp's DTMF receiver (the detector rtpengine runs on converted
 * audio), N-API. The receiver reports each change of digit as it happens: the digit (0 when
 * it ends), its level in dBm0 and the samples since the previous report. One native call per
 * packet, no copy, no allocation: the reports go into the caller's Int32Array. */
#include <spandsp.h>
#include <stdint.h>
#include <stdlib.h>

/* Reports kept per call: a 120 ms packet holds at most a few digit changes. */
#define MAX_REPORTS 16

typedef struct {
  dtmf_rx_state_t *rx;
  int32_t reports[MAX_REPORTS * 3];
  int count;
} coder_t;
typedef coder_t detector_t;

static void release(detector_t *d) {
  if (d->rx) dtmf_rx_free(d->rx);
  d->rx = NULL;
}

/* The handle's lifetime and close() are the codec bindings'. */
#include "codec_binding.h"

static void report(void *user, int code, int level, int delay) {
  detector_t *d = user;
  if (d->count >= MAX_REPORTS) return;
  d->reports[d->count * 3] = code;
  d->reports[d->count * 3 + 1] = level;
  d->reports[d->count * 3 + 2] = delay;
  d->count++;
}

/* create(): a receiver for 8 kHz audio. */
static napi_value create(napi_env env, napi_callback_info info) {
  (void) info;
  detector_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->rx = dtmf_rx_init(NULL, NULL, NULL);
  if (!d->rx) {
    free(d);
    napi_throw_error(env, NULL, "libspandsp could not make a DTMF receiver");
    return NULL;
  }
  dtmf_rx_set_realtime_callback(d->rx, report, d);
  return wrap_coder(env, d);
}

/* feed(detector, pcm Int16Array, samples, out Int32Array) -> reports written to out as
 * (digit character or 0, level, delay) triples, or -1. */
static napi_value feed(napi_env env, napi_callback_info info) {
  pcm_args_t e;
  if (!read_pcm_args(env, info, napi_int32_array, &e)) return num(env, -1);
  detector_t *d = e.c;
  if (!d || !d->rx) return num(env, -1);
  int32_t *out = e.out;
  size_t on = e.out_len;
  d->count = 0;
  int16_t *at = e.pcm;
  int left = e.samples;
  /* dtmf_rx returns what it left unprocessed; it takes everything in practice. */
  while (left > 0) {
    int rest = dtmf_rx(d->rx, at, left);
    if (rest < 0 || rest >= left) break;
    at += left - rest;
    left = rest;
  }
  int n = d->count;
  if ((size_t) n * 3 > on) n = (int) (on / 3);
  for (int i = 0; i < n * 3; i++) out[i] = d->reports[i];
  return num(env, n);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor p[] = { CODEC_METHOD("create", create), CODEC_METHOD("feed", feed), CODEC_METHOD("close", close_coder) };
  napi_define_properties(env, exports, sizeof p / sizeof p[0], p);
  return exports;
}
