/**
 * A polyphase windowed-sinc resampler between the rates telephony uses (8, 16, 24, 48 kHz): up
 * by L, low-pass, down by M with L/M the reduced rate ratio, computing only the outputs kept.
 * The low-pass edge sits at 93 % of the lower Nyquist frequency with a Kaiser window (β 7.5):
 * towards 8 kHz, flat within 0.1 dB to 3.4 kHz, -35 dB at 4 kHz, below -80 dB from 4.2 kHz. State (the last input samples, the phase)
 * carries over between calls, so 20 ms frames resample as one continuous signal. Buffers are
 * allocated once for the largest frame.
 *
 * A stream starts as libswresample (rtpengine's resampler) starts one: nothing comes out until
 * its filter's length of input has arrived, the signal before the first sample is that start
 * mirrored (so the first output is clean, with no ramp from silence), and each output sample
 * waits for half that filter's length of input after its own position. The output is thus as
 * many samples short as rtpengine's (16 at the lower rate) and packets leave when rtpengine's do.
 */
const ZERO_CROSSINGS = 24;
const BETA = 7.5;
const EDGE = 0.93;
/** libswresample's default filter: 32 taps at the lower rate, cut off at 97 % of its Nyquist. */
const SWR_FILTER_SIZE = 32;
const SWR_CUTOFF = 0.97;

function bessel0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 30; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly up: number;
  private readonly down: number;
  /** Taps per phase. */
  private readonly taps: number;
  /** coeffs[phase * taps + k] multiplies the input `k` samples before the current one. */
  private readonly coeffs: Float32Array;
  /** The last `taps - 1` input samples, then the current frame. */
  private readonly work: Float32Array;
  /** The input libswresample waits for before its first output: its filter's length (made even) and one. */
  private readonly startAfter: number;
  /** Input samples each output waits for after its own position (half that filter's length). */
  private readonly lead: number;
  /** Position of the next output in upsampled units, relative to work[taps - 1]. */
  private t: number;
  /** Whether the first samples have arrived and been mirrored into the history. */
  private started = false;
  /** Input held in work[taps - 1 ..] before the start. */
  private pending = 0;

  /** `maxInput`: the most samples one call may pass. */
  constructor(inRate: number, outRate: number, maxInput: number) {
    this.inRate = inRate;
    this.outRate = outRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    const factor = Math.max(this.up, this.down);
    const half = ZERO_CROSSINGS * factor;
    this.taps = Math.ceil((2 * half + 1) / this.up);
    const length = this.taps * this.up;
    const cutoff = (EDGE * 0.5) / factor;
    const proto = new Float64Array(length);
    const centre = (length - 1) / 2;
    for (let n = 0; n < length; n++) {
      const x = n - centre;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const r = x / (centre + 1);
      const w = bessel0(BETA * Math.sqrt(Math.max(0, 1 - r * r))) / bessel0(BETA);
      proto[n] = sinc * w * this.up;
    }
    // Unity gain at 0 Hz for every phase.
    for (let p = 0; p < this.up; p++) {
      let sum = 0;
      for (let k = 0; k < this.taps; k++) sum += proto[p + k * this.up]!;
      for (let k = 0; k < this.taps; k++) proto[p + k * this.up]! /= sum;
    }
    this.coeffs = new Float32Array(length);
    for (let p = 0; p < this.up; p++) {
      for (let k = 0; k < this.taps; k++) this.coeffs[p * this.taps + k] = proto[p + k * this.up]!;
    }
    const swrFactor = Math.min((outRate * SWR_CUTOFF) / inRate, 1);
    const swrLength = Math.max(Math.ceil(SWR_FILTER_SIZE / swrFactor), 1);
    this.lead = (swrLength + 1) >> 1;
    this.startAfter = 2 * this.lead + 1;
    this.t = this.lead * this.up;
    this.work = new Float32Array(this.taps - 1 + this.startAfter + maxInput);
  }

  /** Output samples for `n` input samples at most (the exact count depends on the phase). */
  maxOutput(n: number): number {
    return Math.ceil(((n + this.startAfter) * this.up) / this.down) + 1;
  }

  /** Resamples `n` samples of `input` into `out`; returns the number of samples written. */
  process(input: Int16Array, n: number, out: Int16Array): number {
    const { work, coeffs, taps, up, down } = this;
    const hist = taps - 1;
    const at = hist + this.pending;
    for (let i = 0; i < n; i++) work[at + i] = input[i]!;
    const total = this.pending + n;
    if (!this.started) {
      if (total < this.startAfter) {
        this.pending = total;
        return 0;
      }
      // Before the first sample: the start mirrored around it.
      for (let j = 1; j <= hist; j++) work[hist - j] = work[hist + Math.min(j, total - 1)]!;
      this.started = true;
    }
    this.pending = 0;
    let t = this.t;
    let o = 0;
    const end = total * up;
    while (t < end) {
      const base = hist + Math.floor(t / up);
      const c = (t % up) * taps;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += coeffs[c + k]! * work[base - k]!;
      const v = Math.round(acc);
      out[o++] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      t += down;
    }
    this.t = t - end;
    work.copyWithin(0, total, total + hist);
    return o;
  }

  /** Forgets the signal (after a gap), as if newly made. */
  reset(): void {
    this.t = this.lead * this.up;
    this.started = false;
    this.pending = 0;
  }
}
