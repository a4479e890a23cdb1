import type dgram from 'node:dgram';
import { PortsExhaustedError } from '../MediaPlane.js';
import { bindUdp } from './udp.js';


/**
 * The media ports of one local address: RTP on even ports, RTCP on the next odd one.
 * The same port number may be in use on another address at the same time.
 */
export class PortPool {
  private readonly used = new Uint8Array(65536);
  private usedCount = 0;
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

  get inUse(): number {
    return this.usedCount;
  }

  get size(): number {
    return this.max - this.min + 1;
  }

  isUsed(port: number): boolean {
    return this.used[port] === 1;
  }

  /** A bound RTP/RTCP pair on consecutive ports, starting from a random step past the last one. */
  async allocatePair(): Promise<[dgram.Socket, dgram.Socket]> {
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
        const pair = await this.tryBindPair(port);
        if (pair) return pair;
      }
      port += 2;
      tried += 2;
    }
    throw new PortsExhaustedError(`Failed to get 2 consecutive ports on ${this.address}`);
  }

  /** Claims one port for a restored stream; false when another call of ours holds it. */
  reserve(port: number): boolean {
    if (this.used[port]) return false;
    this.mark(port);
    return true;
  }

  /** Binds a port claimed with reserve(); the claim stays if the bind fails, so a retry can follow. */
  bindReserved(port: number): Promise<dgram.Socket> {
    return bindUdp(this.address, this.family, port);
  }

  /**
   * Claims and binds both ports at once. The claim and `lastPort` change before the first
   * await, so a concurrent allocation (the other side of the same media) starts past them.
   */
  private async tryBindPair(port: number): Promise<[dgram.Socket, dgram.Socket] | null> {
    this.mark(port);
    this.mark(port + 1);
    const previous = this.lastPort;
    this.lastPort = port;
    const [rtp, rtcp] = await Promise.allSettled([bindUdp(this.address, this.family, port), bindUdp(this.address, this.family, port + 1)]);
    if (rtp.status === 'fulfilled' && rtcp.status === 'fulfilled') {
      this.lastAllocated = port;
      return [rtp.value, rtcp.value];
    }
    if (rtp.status === 'fulfilled') rtp.value.close();
    if (rtcp.status === 'fulfilled') rtcp.value.close();
    this.release(port);
    this.release(port + 1);
    if (this.lastPort === port) this.lastPort = previous;
    return null;
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
