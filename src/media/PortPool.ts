/** No free RTP/RTCP port pair on a local address. */
export class PortsExhaustedError extends Error {}

/** Binds RTP on `port` and RTCP on `port + 1`; null (with nothing left bound) when either fails. */
export type PairBinder<T> = (port: number) => Promise<T | null>;

/** Whoever holds parked pairs gives one up when a restored call needs exactly its ports. */
export interface ParkedPairs {
  /** Stops holding the pair starting at `port` (it unparks and releases it); false when it cannot. */
  evict(port: number): boolean;
}

/**
 * The media ports of one local address: RTP on even ports, RTCP on the next odd one. It
 * keeps the bookkeeping; the media plane binds (on this thread or a worker's).
 * The same port number may be in use on another address at the same time.
 */
export class PortPool {
  private readonly used = new Uint8Array(65536);
  private usedCount = 0;
  /** Pairs bound ahead of time for calls to come (see `park`): counted as free, not as used. */
  private readonly parked = new Uint8Array(65536);
  private parkedCount = 0;
  parkedBy: ParkedPairs | null = null;
  lastPort = 0;
  /** The last port handed out (0 before the first), what `list interfaces` shows. */
  lastAllocated = 0;

  constructor(
    readonly address: string,
    readonly family: 4 | 6,
    readonly min: number,
    readonly max: number,
  ) {
    this.lastPort = min;
  }

  /** Ports held by calls. */
  get inUse(): number {
    return this.usedCount - this.parkedCount;
  }

  /** Ports neither used nor parked. */
  get unclaimed(): number {
    return this.size - this.usedCount;
  }

  get size(): number {
    return this.max - this.min + 1;
  }

  isUsed(port: number): boolean {
    return this.used[port] === 1;
  }

  /** A bound RTP/RTCP pair on consecutive ports, starting from a random step past the last one. */
  async allocatePair<T>(bindPair: PairBinder<T>): Promise<T> {
    const span = this.max - this.min + 1;
    let port = this.lastPort + 6 + Math.floor(Math.random() * 14);
    let tried = 0;
    // Two full cycles, as rtpengine does, before giving up.
    while (tried < 2 * span) {
      if (port < this.min || port + 1 > this.max) port = this.min;
      if (port % 2 === 1) port++;
      if (port + 1 > this.max) {
        port = this.min;
        tried += 2;
        continue;
      }
      if (!this.used[port] && !this.used[port + 1]) {
        const pair = await this.tryBindPair(port, bindPair);
        if (pair !== null) return pair;
      }
      port += 2;
      tried += 2;
    }
    throw new PortsExhaustedError(`Failed to get 2 consecutive ports on ${this.address}`);
  }

  /** Claims one port for a restored stream; false when another call of ours holds it. */
  reserve(port: number): boolean {
    const pair = port - (port % 2);
    if (this.parked[pair] && !this.parkedBy?.evict(pair)) return false;
    if (this.used[port]) return false;
    this.mark(port);
    return true;
  }

  /**
   * Claims both ports and binds them. The claim and `lastPort` change before the first
   * await, so a concurrent allocation (the other side of the same media) starts past them.
   */
  private async tryBindPair<T>(port: number, bindPair: PairBinder<T>): Promise<T | null> {
    this.mark(port);
    this.mark(port + 1);
    const previous = this.lastPort;
    this.lastPort = port;
    const pair = await bindPair(port);
    if (pair !== null) {
      this.lastAllocated = port;
      return pair;
    }
    this.release(port);
    this.release(port + 1);
    if (this.lastPort === port) this.lastPort = previous;
    return null;
  }

  /** An allocated pair held for a call to come: its ports stay claimed but count as free. */
  park(port: number): void {
    if (this.parked[port]) return;
    this.parked[port] = 1;
    this.parkedCount += 2;
  }

  /** A parked pair handed to a call (or given up). */
  unpark(port: number): void {
    if (!this.parked[port]) return;
    this.parked[port] = 0;
    this.parkedCount -= 2;
  }

  private mark(port: number): void {
    if (!this.used[port]) {
      this.used[port] = 1;
      this.usedCount++;
    }
  }

  release(port: number): void {
    if (this.used[port]) {
      this.used[port] = 0;
      this.usedCount--;
    }
  }
}
