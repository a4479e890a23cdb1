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

export interface Digit {
  /** RFC 4733 event code (0-15). */
  code: number;
  /** Tone length and the pause after it, in ms. */
  durationMs: number;
  pauseMs: number;
  /** Level in -dBm0 (0-63). */
  volume: number;
}

export interface DtmfSource {
  kind: 'dtmf';
  /** Played one after the other: a `play DTMF` while digits still play queues behind them. */
  digits: Digit[];
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
  // Digits: each with its pause (a tone's trailing pause is silence, an event's the party's audio).
  if (s.kind === 'dtmf') return s.digits.reduce((ms, d) => ms + d.durationMs + d.pauseMs, 0);
  const round = ((s.pcm.length - s.startSample) * 1000) / s.rate;
  const all = Math.max(0, round) * s.repeat;
  return s.limitMs > 0 ? Math.min(all, s.limitMs) : all;
}
