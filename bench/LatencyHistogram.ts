/** Latency in fixed 10 µs buckets up to 1 s; counts only, so workers can ship and merge them cheaply. */
export class LatencyHistogram {
  static readonly BUCKET_US = 10;
  static readonly BUCKETS = 100_000;
  readonly counts: Uint32Array;
  max = 0;

  constructor(counts?: ArrayLike<number>, max = 0) {
    this.counts = new Uint32Array(LatencyHistogram.BUCKETS + 1);
    if (counts) this.counts.set(counts);
    this.max = max;
  }

  record(us: number): void {
    const b = us <= 0 ? 0 : Math.floor(us / LatencyHistogram.BUCKET_US);
    this.counts[b < LatencyHistogram.BUCKETS ? b : LatencyHistogram.BUCKETS]!++;
    if (us > this.max) this.max = us;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    if (other.max > this.max) this.max = other.max;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** Upper edge of the bucket holding the q-quantile, in µs (NaN when empty). */
  percentile(q: number): number {
    const total = this.total;
    if (total === 0) return NaN;
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === LatencyHistogram.BUCKETS ? this.max : (i + 1) * LatencyHistogram.BUCKET_US;
    }
    return this.max;
  }
}
