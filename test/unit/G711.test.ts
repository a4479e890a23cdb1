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

  for (const [name, Enc, Dec, table, encMode, decMode] of [
    ['PCMU', PcmuEncoder, PcmuDecoder, ULAW_DECODE, 'ulaw-enc', 'ulaw-dec'],
    ['PCMA', PcmaEncoder, PcmaDecoder, ALAW_DECODE, 'alaw-enc', 'alaw-dec'],
  ] as const) {
    describe(name, () => {
      it('codes every 16-bit sample as the reference coder (libspandsp) does', () => {
        const pcm = everySample();
        const out = new Uint8Array(pcm.length);
        expect(new Enc().encode(pcm, pcm.length, out)).toBe(65536);
        expect(Buffer.from(out).equals(Buffer.from(ref.encode(encMode, pcm)))).toBe(true);
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
