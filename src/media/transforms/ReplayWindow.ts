/** Packets further back than this behind the highest index seen are refused (RFC 3711 3.3.2; libsrtp: 128). */
export const REPLAY_WINDOW = 128;
const WORDS = REPLAY_WINDOW / 32;

/**
 * The replay list of one stream: the highest packet index accepted and a bitmap of the
 * `REPLAY_WINDOW` indices below it. Indices are below 2^48, exact in a double.
 */
export class ReplayWindow {
  private top = -1;
  private readonly bits = new Uint32Array(WORDS);

  /** Whether `index` is new (not seen, not too old). Does not record it. */
  check(index: number): boolean {
    if (index > this.top) return true;
    if (this.top - index >= REPLAY_WINDOW) return false;
    return (this.bits[(index >>> 5) % WORDS]! & (1 << (index & 31))) === 0;
  }

  /** Records an index that passed `check` and authentication. */
  accept(index: number): void {
    if (index > this.top) {
      // Indices skipped over become unseen slots of the window (at most one window's worth).
      if (this.top < 0 || index - this.top >= REPLAY_WINDOW) this.bits.fill(0);
      else for (let i = this.top + 1; i < index; i++) this.bits[(i >>> 5) % WORDS]! &= ~(1 << (i & 31));
      this.top = index;
    }
    this.bits[(index >>> 5) % WORDS]! |= 1 << (index & 31);
  }

  get highest(): number {
    return this.top;
  }
}
