/** The row and column frequencies of each event code 0-15 (`0-9*#A-D`), ITU-T Q.23. */
const LOW = [941, 697, 697, 697, 770, 770, 770, 852, 852, 852, 941, 941, 697, 770, 852, 941];
const HIGH = [1336, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1336, 1477, 1209, 1477, 1633, 1633, 1633, 1633];

/** One dB as an amplitude ratio, to the precision rtpengine scales its tones with. */
const DB = 1.122018;

/**
 * A digit's tone as rtpengine makes it: `pcm[from..to)` are the samples `offset`, `offset + 1`
 * ... of the tone, each of the two sines at half scale lowered by `volume` dB, computed afresh
 * from its offset and truncated, so a tone made in pieces is the same as one made at once.
 */
export function writeDtmfTone(pcm: Int16Array, from: number, to: number, offset: number, code: number, volume: number, rate: number): void {
  const wl = (LOW[code & 15]! * (2 * Math.PI)) / rate;
  const wh = (HIGH[code & 15]! * (2 * Math.PI)) / rate;
  const vol = DB ** volume * 2;
  for (let i = from, n = offset; i < to; i++, n++) {
    pcm[i] = Math.trunc((Math.sin(wl * n) / vol) * 32767 + (Math.sin(wh * n) / vol) * 32767);
  }
}
