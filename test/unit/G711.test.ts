import { beforeAll, describe, expect, it } from 'vitest';
import { ALAW_DECODE, PcmaDecoder, PcmaEncoder } from '../../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder, ULAW_DECODE } from '../../src/media/codecs/Pcmu.js';
import { snr, tone } from '../helpers/audio.js';
import { SpandspCodec } from '../helpers/spandsp.js';

const everySample = (): Int16Array => {
  const s = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) s[i] = i - 32768;
  return s;
};
const everyCode = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i);

describe('G.711', () => {
  let ref: SpandspCodec;
  beforeAll(() => {
    ref = new SpandspCodec();
  });

  for (const [name, Enc, Dec, table, encMode, decMode, positiveZero] of [
    ['PCMU', PcmuEncoder, PcmuDecoder, ULAW_DECODE, 'ulaw-enc', 'ulaw-dec', 0xff],
    ['PCMA', PcmaEncoder, PcmaDecoder, ALAW_DECODE, 'alaw-enc', 'alaw-dec', 0xd5],
  ] as const) {
    describe(name, () => {
      /** The n-th positive level (n = 0..127) in 16-bit units. */
      const level = (n: number): number => table[positiveZero ^ n]!;

      // rtpengine codes through libavcodec: the sample goes to the 14-bit grid (a positive
      // magnitude rounded down, a negative one up) and takes the nearest level, halfway taking
      // the larger magnitude. Stated here by brute force over all 128 levels of the sign.
      it('codes every 16-bit sample as rtpengine does (nearest level on the 14-bit grid)', () => {
        const pcm = everySample();
        const out = new Uint8Array(pcm.length);
        expect(new Enc().encode(pcm, pcm.length, out)).toBe(65536);
        for (let i = 0; i < 65536; i++) {
          const s = pcm[i]!;
          const grid = 4 * (s >= 0 ? s >> 2 : Math.min(8191, (3 - s) >> 2));
          let best = 0;
          for (let n = 1; n < 128; n++) if (Math.abs(grid - level(n)) <= Math.abs(grid - level(best))) best = n;
          if (out[i] !== (positiveZero ^ best ^ (s < 0 ? 0x80 : 0))) expect.fail(`sample ${s}: 0x${out[i]!.toString(16)}`);
        }
      });

      // G.191's reference coder (libspandsp here) codes by G.711's decision values. It differs
      // from rtpengine's bytes on exactly two kinds of input, each by one step: a negative
      // sample halfway between two levels on the 14-bit grid (G.191 takes the smaller magnitude,
      // rtpengine the larger), and a sample next to a segment edge, where G.711's decision value
      // is not the midpoint of the two levels around it (rtpengine takes the nearer level).
      it('codes every other sample as the G.191 reference coder (libspandsp) does', () => {
        const pcm = everySample();
        const out = new Uint8Array(pcm.length);
        new Enc().encode(pcm, pcm.length, out);
        const g191 = ref.encode(encMode, pcm);
        const differ = { halfway: 0, segmentEdge: 0 };
        for (let i = 0; i < 65536; i++) {
          if (out[i] === g191[i]) continue;
          const s = pcm[i]!;
          const grid = 4 * (s >= 0 ? s >> 2 : Math.min(8191, (3 - s) >> 2));
          const ours = (out[i]! ^ positiveZero) & 0x7f;
          const theirs = (g191[i]! ^ positiveZero) & 0x7f;
          const ourDist = Math.abs(grid - level(ours));
          const theirDist = Math.abs(grid - level(theirs));
          if (s < 0 && ours === theirs + 1 && ourDist === theirDist) differ.halfway++;
          else if (Math.abs(ours - theirs) === 1 && ours >> 4 !== theirs >> 4 && ourDist < theirDist) differ.segmentEdge++;
          else expect.fail(`sample ${s}: 0x${out[i]!.toString(16)}, G.191 0x${g191[i]!.toString(16)}`);
        }
        expect(differ).toEqual(name === 'PCMA' ? { halfway: 484, segmentEdge: 480 } : { halfway: 360, segmentEdge: 491 });
      });

      it('expands every code as the reference coder does', () => {
        const out = new Int16Array(256);
        expect(new Dec().decode(everyCode(), 0, 256, out)).toBe(256);
        expect(Array.from(out)).toEqual(Array.from(ref.decode(decMode, everyCode())));
      });

      it('round-trips every code, and expansion is monotonic in the code order', () => {
        const enc = new Enc();
        const one = new Uint8Array(1);
        const distinct = new Set<number>();
        for (let c = 0; c < 256; c++) {
          enc.encode(Int16Array.of(table[c]!), 1, one);
          // µ-law has two zeros (0x7f, 0xff): both expand to 0, which compresses to 0xff.
          expect(one[0] === c || (name === 'PCMU' && c === 0x7f && one[0] === 0xff)).toBe(true);
          distinct.add(table[c]!);
        }
        expect(distinct.size).toBe(name === 'PCMU' ? 255 : 256);
        // Quantisation error stays within half a step everywhere (the largest step is 1024 for
        // µ-law, 1024 for A-law), and the expanded value is the compressed interval's midpoint.
        const pcm = everySample();
        const codes = new Uint8Array(65536);
        enc.encode(pcm, pcm.length, codes);
        let worst = 0;
        for (let i = 0; i < 65536; i++) worst = Math.max(worst, Math.abs(table[codes[i]!]! - pcm[i]!));
        expect(worst).toBeLessThanOrEqual(1024);
      });

      it('keeps a 1 kHz tone at the SNR G.711 is known for (> 35 dB at -12 dBFS)', () => {
        const pcm = tone({ freq: 1000, rate: 8000, samples: 8000, seed: 7 });
        const bytes = new Uint8Array(8000);
        const back = new Int16Array(8000);
        new Enc().encode(pcm, 8000, bytes);
        new Dec().decode(bytes, 0, 8000, back);
        expect(snr(back, 1000, 8000)).toBeGreaterThan(35);
      });
    });
  }
});
