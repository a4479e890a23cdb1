import type { PayloadFormat } from './TranscodeSettings.js';

/**
 * What a leg plays to its party instead of what its peer sends: a decoded file or a run of
 * DTMF digits, encoded into the party's codec. Plain data that crosses to a media worker; the
 * samples live in shared memory, so a file is decoded once for every thread.
 */
export interface FileSource {
  kind: 'file';
  /** Mono samples at `rate`. */
  pcm: Int16Array;
  rate: number;
  /** Where each round starts (a sample index): `start-pos`. */
  startSample: number;
  /** Rounds to play: `repeat-times`. */
  repeat: number;
  /** Ends the playback after this many ms (0: when the rounds are done): `duration`. */
  limitMs: number;
}

export interface DtmfSource {
  kind: 'dtmf';
  /** RFC 4733 event codes (0-15). */
  events: number[];
  /** Tone length and the silence after each, in ms. */
  durationMs: number;
  pauseMs: number;
  /** Level in -dBm0 (0-63). */
  volume: number;
}

export interface PlaybackSettings {
  /** Tells one playback from the next: the same id again changes nothing. */
  id: number;
  source: FileSource | DtmfSource;
  /** The party's audio codec. */
  audio: PayloadFormat;
  /** The party's telephone-event format: digits go as RFC 4733 events on it, else as tones. */
  event: PayloadFormat | null;
  /** ms per packet. */
  ptime: number;
  /** Epoch ms the playback began: a restarted thread or relay continues from the time elapsed. */
  startedAt: number;
}

/** How long a playback lasts in ms, all rounds and pauses included. */
export function playbackLength(s: PlaybackSettings['source']): number {
  // Digits: each with its pause but the last (its repeated end packets take 40 ms).
  if (s.kind === 'dtmf') return s.events.length * (s.durationMs + s.pauseMs) - s.pauseMs + 40;
  const round = ((s.pcm.length - s.startSample) * 1000) / s.rate;
  const all = Math.max(0, round) * s.repeat;
  return s.limitMs > 0 ? Math.min(all, s.limitMs) : all;
}
