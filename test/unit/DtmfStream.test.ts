import { describe, expect, it } from 'vitest';
import { DtmfStream } from '../../src/media/engine/DtmfStream.js';
import type { Digit } from '../../src/media/engine/PlaybackSettings.js';
import { AUDIO, END, EVENT, PASS, type EventFrame } from '../../src/media/engine/PlaybackStream.js';
import { powerAt } from '../helpers/audio.js';

const ev = (): EventFrame => ({ event: 0, volume: 0, duration: 0, start: false, end: false });
const digit = (code: number, durationMs: number, pauseMs: number, volume: number): Digit => ({ code, durationMs, pauseMs, volume });

/** Every frame of `s` (160 samples each) as text, until it ends. */
function frames(s: DtmfStream, pcm = new Int16Array(160)): string[] {
  const e = ev();
  const out: string[] = [];
  for (;;) {
    const k = s.next(pcm, 160, e);
    if (k === END) return out;
    if (k === EVENT) out.push(`${e.event}/${e.volume}/${e.duration}${e.start ? 's' : ''}${e.end ? 'e' : ''}`);
    else if (k === PASS) out.push('pass');
    else out.push(pcm.every((v) => v === 0) ? 'silence' : `tone${s.filled < 160 ? s.filled : ''}`);
  }
}

describe('DTMF playback', () => {
  it('as RFC 4733 events: durations from the first frame, the end one frame past the duration, the party between digits', () => {
    const s = new DtmfStream({ kind: 'dtmf', digits: [digit(11, 100, 100, 10), digit(4, 100, 100, 6)] }, 8000, true);
    // 100 ms = 800 samples: five frames, then the end (at 960: it goes out three times); the next digit is due 200 ms after the first.
    expect(frames(s)).toEqual([
      '11/10/160s', '11/10/320', '11/10/480', '11/10/640', '11/10/800', '11/10/960e', 'pass', 'pass', 'pass', 'pass',
      '4/6/160s', '4/6/320', '4/6/480', '4/6/640', '4/6/800', '4/6/960e',
    ]);
  });

  it('a digit queued while one plays is due after its pause; the end frame follows a duration that is not whole frames', () => {
    const s = new DtmfStream({ kind: 'dtmf', digits: [digit(1, 110, 100, 0)] }, 8000, true);
    const e = ev();
    const pcm = new Int16Array(160);
    expect(s.next(pcm, 160, e)).toBe(EVENT);
    s.queue([digit(2, 100, 100, 0)]);
    expect(s.finished).toBe(false);
    const rest = frames(s, pcm);
    // 110 ms = 880 samples: the end at the first frame at or past it (960), one frame longer (1120); digit 2 due at 210 ms (1680), so it starts with the frame at 1760.
    expect(rest).toEqual(['1/0/320', '1/0/480', '1/0/640', '1/0/800', '1/0/960', '1/0/1120e', 'pass', 'pass', 'pass', 'pass', '2/0/160s', '2/0/320', '2/0/480', '2/0/640', '2/0/800', '2/0/960e']);
    expect(s.finished).toBe(true);
  });

  it("as tones: the digit's two frequencies at half scale lowered by its volume, then silence for its pause, the last frame partly the party's", () => {
    // 150 ms tone (1200 samples: seven and a half frames), 100 ms pause (800).
    const s = new DtmfStream({ kind: 'dtmf', digits: [digit(1, 150, 100, 8)] }, 8000, false);
    const pcm = new Int16Array(2400);
    const frame = new Int16Array(160);
    const e = ev();
    const kinds: string[] = [];
    let n = 0;
    for (let k = s.next(frame, 160, e); k !== END; k = s.next(frame, 160, e)) {
      expect(k).toBe(AUDIO);
      kinds.push(`${s.filled}`);
      pcm.set(frame, n);
      n += 160;
    }
    expect(kinds).toEqual(['160', '160', '160', '160', '160', '160', '160', '160', '160', '160', '160', '160', '80']);
    const tone = pcm.subarray(0, 1200);
    expect(pcm.subarray(1200, 2000).every((v) => v === 0)).toBe(true);
    const others = [697, 770, 852, 941, 1209, 1336, 1477, 1633].map((f) => [f, powerAt(tone, f, 8000)] as const).sort((a, b) => b[1] - a[1]);
    expect(others.slice(0, 2).map(([f]) => f).sort()).toEqual([1209, 697]);
    // Each sine peaks at 32767 / 2 / 1.122018^8 = 6,523; together at most twice that. The first sample is zero (both sines start at 0).
    const peak = tone.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(12000);
    expect(peak).toBeLessThanOrEqual(13045);
    expect(tone[0]).toBe(0);
    // Sample n is truncated from the two sines at n: continuous across frames.
    const w1 = (697 * (2 * Math.PI)) / 8000;
    const w2 = (1209 * (2 * Math.PI)) / 8000;
    const vol = 1.122018 ** 8 * 2;
    for (const i of [1, 159, 160, 161, 1199]) expect(tone[i]).toBe(Math.trunc((Math.sin(w1 * i) / vol) * 32767 + (Math.sin(w2 * i) / vol) * 32767));
  });

  it('skips ahead by whole frames (a playback continued elsewhere)', () => {
    const s = new DtmfStream({ kind: 'dtmf', digits: [digit(1, 100, 100, 8), digit(2, 100, 100, 8)] }, 8000, true);
    s.advance(200);
    const e = ev();
    expect(s.next(new Int16Array(160), 160, e)).toBe(EVENT);
    expect([e.event, e.duration, e.start]).toEqual([2, 160, true]);
  });
});
