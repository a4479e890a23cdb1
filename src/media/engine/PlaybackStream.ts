/** What a playback produces for one frame. */
export const AUDIO = 0;
export const EVENT = 1;
export const END = 2;
/** Nothing of the playback's in this frame: the party's own packet goes through (silence where there is none). */
export const PASS = 3;
export type FrameKind = typeof AUDIO | typeof EVENT | typeof END | typeof PASS;

/** An RFC 4733 event frame, in ms (the player converts to the event's clock). */
export interface EventFrame {
  event: number;
  volume: number;
  /** Samples (at the stream's rate) since the event began, this frame included. */
  duration: number;
  /** The event's first packet (a new timestamp, the marker bit). */
  start: boolean;
  end: boolean;
}

/** Samples (or events) of a playback, frame by frame, at the player's rate; nothing allocated per frame. */
export interface PlaybackStream {
  /**
   * Samples of the last AUDIO frame that are the playback's: fewer than the frame where it ends
   * within it, the rest is the party's audio.
   */
  readonly filled: number;
  /** Fills `pcm[0..samples)` (AUDIO) or `ev` (EVENT), or says the playback is over (END). */
  next(pcm: Int16Array, samples: number, ev: EventFrame): FrameKind;
  /** Moves on by `ms` without producing anything (a playback continued on another thread or relay). */
  advance(ms: number): void;
}
