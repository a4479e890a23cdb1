import { describe, expect, it } from 'vitest';
import type { PlaybackSettings } from '../../src/media/engine/PlaybackSettings.js';
import { Playout } from '../../src/media/engine/Playout.js';
import { tone } from '../helpers/audio.js';

const PCMU = { pt: 0, encoding: 'PCMU', clock: 8000, channels: 1 };

function file(id: number, ms: number): PlaybackSettings {
  const pcm = new Int16Array(new SharedArrayBuffer(ms * 16));
  pcm.set(tone({ freq: 440, rate: 8000, samples: ms * 8, seed: id }));
  return { id, source: { kind: 'file', pcm, rate: 8000, startSample: 0, repeat: 1, limitMs: 0 }, audio: PCMU, event: null, ptime: 20, startedAt: Date.now() };
}

/** Until the playout has nothing playing (a busy host only makes this take longer). */
async function finished(playout: Playout): Promise<void> {
  for (let i = 0; i < 500 && playout.playing; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('Playout', () => {
  it('a second playback to a party that heard nothing else goes on in the first one\'s stream', async () => {
    const sent: Buffer[] = [];
    const playout = new Playout((p, n) => sent.push(Buffer.from(p.subarray(0, n))));
    playout.set(file(1, 100));
    await finished(playout);
    const first = sent.length;
    playout.set(file(2, 100));
    await finished(playout);
    playout.close();
    expect(first).toBe(5);
    expect(sent.length).toBe(10);
    expect(new Set(sent.map((p) => p.readUInt32BE(8))).size).toBe(1);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.readUInt16BE(2)).toBe((sent[i - 1]!.readUInt16BE(2) + 1) & 0xffff);
    // Marker bits where each playback starts.
    expect(sent.map((p) => p[1]! >> 7)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it("takes over the party's stream and hands it back renumbered: sequence continuous, marker on the return", async () => {
    const sent: Buffer[] = [];
    const playout = new Playout((p, n) => sent.push(Buffer.from(p.subarray(0, n))));
    const source = (seq: number): Buffer => {
      const p = Buffer.alloc(172);
      p[0] = 0x80;
      p.writeUInt16BE(seq, 2);
      p.writeUInt32BE(seq * 160, 4);
      p.writeUInt32BE(0xabcd, 8);
      return p;
    };
    playout.set(file(3, 60));
    expect(playout.pass(source(100), 172, Date.now())).toBe(true);
    await finished(playout);
    const back = source(108);
    expect(playout.pass(back, 172, Date.now())).toBe(false);
    playout.close();
    expect(sent.map((p) => [p.readUInt16BE(2), p.readUInt32BE(8)])).toEqual([[100, 0xabcd], [101, 0xabcd], [102, 0xabcd]]);
    expect([back.readUInt16BE(2), back[1]! >> 7]).toEqual([103, 1]);
    expect(back.readUInt32BE(4)).toBeGreaterThan(sent[2]!.readUInt32BE(4));
  });
});
