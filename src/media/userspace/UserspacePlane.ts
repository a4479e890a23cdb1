import type dgram from 'node:dgram';
import type { LocalAddress } from '../LocalInterface.js';
import { SETTLED, type MediaLeg, type MediaPlane, type MediaThreadStats } from '../MediaPlane.js';
import type { OffloadWatcher } from '../Offload.js';
import { RelayLeg } from './RelayLeg.js';
import { bindUdp, bindUdpPair } from './udp.js';

/**
 * Media on this thread's sockets: each leg is a bound dgram socket relaying in userspace.
 * An offload watcher (the kernel fast path) may take confirmed streams off its hands.
 */
export class UserspacePlane implements MediaPlane {
  constructor(private readonly offload: OffloadWatcher | null = null) {}

  threads(): MediaThreadStats[] {
    return [];
  }

  killThread(): Promise<boolean> {
    return Promise.resolve(false);
  }

  injectFault(): boolean {
    return false;
  }

  /** Media runs on the control thread, which releases its own. */
  releaseMemory(): void {}

  /** Media runs on this thread: what it saw is handled already. */
  caughtUp(): Promise<void> {
    return Promise.resolve();
  }

  settled(): Promise<void> {
    return this.offload?.settled() ?? SETTLED;
  }

  async allocatePair(local: LocalAddress): Promise<[MediaLeg, MediaLeg]> {
    const { port, sockets } = await local.pool.allocatePair(async (p) => {
      const pair = await bindUdpPair(local.address, local.family, p);
      return pair && { port: p, sockets: pair };
    });
    return [this.leg(sockets[0], local, port, false), this.leg(sockets[1], local, port + 1, true)];
  }

  async bindReserved(local: LocalAddress, port: number, rtcpOnly: boolean): Promise<MediaLeg> {
    return this.leg(await bindUdp(local.address, local.family, port), local, port, rtcpOnly);
  }

  async bindAlternate(leg: MediaLeg, local: LocalAddress, port: number): Promise<void> {
    const socket = await bindUdp(local.address, local.family, port);
    if (leg.isClosed) {
      socket.close();
      throw new Error('leg closed');
    }
    (leg as RelayLeg).addAlternate(socket, local.address, port, local.family);
  }

  /** The port is the one bound: asking the socket (getsockname) would cost a system call per leg. */
  private leg(socket: dgram.Socket, local: LocalAddress, port: number, rtcpOnly: boolean): RelayLeg {
    return new RelayLeg(socket, local.address, port, local.family, rtcpOnly, this.offload);
  }

  async close(): Promise<void> {
    await this.offload?.close();
  }
}
