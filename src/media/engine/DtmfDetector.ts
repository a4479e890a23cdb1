/**
 * In-band DTMF in 8 kHz audio (Goertzel filters at the eight DTMF frequencies), frame by frame:
 * a frame holds a digit when one row and one column tone carry most of its energy, neither
 * much weaker than the other (twist), above a floor level. No state between frames, no
 * allocation: the filters run over the caller's samples.
 */
const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const DIGITS = [1, 2, 3, 12, 4, 5, 6, 13, 7, 8, 9, 14, 10, 0, 11, 15];
const COEFF_ROWS = ROWS.map((f) => 2 * Math.cos((2 * Math.PI * f) / 8000));
const COEFF_COLS = COLS.map((f) => 2 * Math.cos((2 * Math.PI * f) / 8000));

/** The row and column frequencies (Hz) of an RFC 4733 DTMF event code (0-15). */
export function dtmfFrequencies(code: number): [number, number] {
  const at = DIGITS.indexOf(code & 15);
  return [ROWS[at >> 2]!, COLS[at & 3]!];
}

/** Share of the frame's energy the two tones must carry. */
const TONE_SHARE = 0.6;
/** Each tone at least this share (about 9 dB of twist between them). */
const MIN_TONE_SHARE = 0.1;
/** Mean square below this (about -45 dBov) is not a tone. */
const MIN_POWER = 150 * 150;

function goertzel(x: Int16Array, n: number, coeff: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

function strongest(x: Int16Array, n: number, coeffs: readonly number[]): { index: number; power: number } {
  let index = 0;
  let power = -1;
  for (let i = 0; i < coeffs.length; i++) {
    const p = goertzel(x, n, coeffs[i]!);
    if (p > power) {
      power = p;
      index = i;
    }
  }
  return { index, power };
}

/** The RFC 4733 event code of the DTMF digit in `x[0..n)` (8 kHz), or -1. */
export function detectDtmf(x: Int16Array, n: number): number {
  if (n < 80) return -1;
  let energy = 0;
  for (let i = 0; i < n; i++) energy += x[i]! * x[i]!;
  if (energy / n < MIN_POWER) return -1;
  const row = strongest(x, n, COEFF_ROWS);
  const col = strongest(x, n, COEFF_COLS);
  // A full-scale tone at a filter's frequency gives (A·n/2)², its energy A²·n/2: normalise by n/2.
  const scale = (energy * n) / 2;
  const r = row.power / scale;
  const c = col.power / scale;
  if (r + c < TONE_SHARE || r < MIN_TONE_SHARE || c < MIN_TONE_SHARE) return -1;
  return DIGITS[row.index * 4 + col.index]!;
}
