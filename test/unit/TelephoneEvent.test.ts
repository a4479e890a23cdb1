import { describe, expect, it } from 'vitest';
import { ComfortNoiseGenerator, noiseLevel, writeComfortNoise } from '../../src/media/codecs/ComfortNoise.js';
import { digitOfEvent, eventOfDigit, readTelephoneEvent, writeTelephoneEvent, type TelephoneEvent } from '../../src/media/codecs/TelephoneEvent.js';
import { tone } from '../helpers/audio.js';

describe('telephone-event (RFC 4733)', () => {
  it('reads and writes the payload of RFC 4733 §2.3', () => {
    // Digit 5, end bit, volume 10, duration 1280 (160 ms at 8 kHz).
    const bytes = Uint8Array.of(0x05, 0x8a, 0x05, 0x00);
    const e: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
    expect(readTelephoneEvent(bytes, 0, 4, e)).toBe(true);
    expect(e).toEqual({ event: 5, end: true, volume: 10, duration: 1280 });
    const out = new Uint8Array(4);
    expect(writeTelephoneEvent(out, 0, e)).toBe(4);
    expect(Array.from(out)).toEqual(Array.from(bytes));
    expect(readTelephoneEvent(bytes, 0, 3, e)).toBe(false);
  });

  it('names the sixteen DTMF events', () => {
    expect([...'0123456789*#ABCD'].map(eventOfDigit)).toEqual([...Array(16).keys()]);
    expect(digitOfEvent(11)).toBe('#');
    expect(digitOfEvent(16)).toBe('');
    expect(eventOfDigit('x')).toBe(-1);
  });
});

describe('comfort noise (RFC 3389)', () => {
  it('measures a level in -dBov and makes noise at that level', () => {
    // A full-scale sine is -3 dBov; 8000 peak is 12.2 dB below that.
    expect(noiseLevel(tone({ freq: 1000, rate: 8000, samples: 8000, amplitude: 32767, seed: 1 }), 8000)).toBe(3);
    expect(noiseLevel(new Int16Array(160), 160)).toBe(127);
    const noise = new Int16Array(8000);
    new ComfortNoiseGenerator(9).fill(40, noise, 8000);
    expect(noiseLevel(noise, 8000)).toBe(40);
    const p = new Uint8Array(1);
    expect(writeComfortNoise(p, 0, 40)).toBe(1);
    expect(p[0]).toBe(40);
  });
});
