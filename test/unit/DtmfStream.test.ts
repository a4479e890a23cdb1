import { describe, expect, it } from 'vitest';
import { DtmfStream } from '../../src/media/engine/DtmfStream.js';
import { AUDIO, END, EVENT, type EventFrame } from '../../src/media/engine/PlaybackStream.js';
import { powerAt } from '../helpers/audio.js';

const ev = (): EventFrame => ({ event: 0, volume: 0, durationMs: 0, start: false, end: false });

describe('DTMF playback', () => {
  it('as RFC 4733 events: growing durations, the end three times, silence for the pause before the next digit', () => {
    const s = new DtmfStream({ kind: 'dtmf', events: [11, 4], durationMs: 100, pauseMs: 100, volume: 10 }, 8000, 20, true);
    const pcm = new Int16Array(160);
    const e = ev();
    const frames: string[] = [];
    for (;;) {
      const k = s.next(pcm, 160, e);
      if (k === END) break;
      frames.push(k === EVENT ? `${e.event}/${e.volume}/${e.durationMs}${e.start ? 's' : ''}${e.end ? 'e' : ''}` : pcm.every((v) => v === 0) ? 'silence' : 'audio');
    }
    expect(frames).toEqual([
      '11/10/20s', '11/10/40', '11/10/60', '11/10/80', '11/10/100e', '11/10/100e', '11/10/100e', 'silence', 'silence', 'silence',
      '4/10/20s', '4/10/40', '4/10/60', '4/10/80', '4/10/100e', '4/10/100e', '4/10/100e',
    ]);
  });

  it("as tones: the digit's two frequencies for its duration, at its volume; nothing after the last digit", () => {
    const s = new DtmfStream({ kind: 'dtmf', events: [1], durationMs: 200, pauseMs: 100, volume: 8 }, 8000, 20, false);
    const pcm = new Int16Array(2400);
    const frame = new Int16Array(160);
    const e = ev();
    let n = 0;
    while (s.next(frame, 160, e) === AUDIO) {
      pcm.set(frame, n);
      n += 160;
    }
    expect(n).toBe(1600);
    const tone = pcm.subarray(0, 1600);
    const others = [697, 770, 852, 941, 1209, 1336, 1477, 1633].map((f) => [f, powerAt(tone, f, 8000)] as const).sort((a, b) => b[1] - a[1]);
    expect(others.slice(0, 2).map(([f]) => f).sort()).toEqual([1209, 697]);
    // Each tone at -8 dBm0: peak 32,767 × 10^(-11.14/20) ≈ 9,087; both together stay below 2 × that.
    const peak = tone.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(15000);
    expect(peak).toBeLessThanOrEqual(18175);
  });

  it('skips ahead by whole frames (a playback continued elsewhere)', () => {
    const s = new DtmfStream({ kind: 'dtmf', events: [1, 2], durationMs: 100, pauseMs: 100, volume: 8 }, 8000, 20, true);
    s.advance(210);
    const e = ev();
    expect(s.next(new Int16Array(160), 160, e)).toBe(EVENT);
    expect([e.event, e.durationMs, e.start]).toEqual([2, 20, true]);
  });
});
