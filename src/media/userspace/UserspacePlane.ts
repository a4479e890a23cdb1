import type dgram from 'node:dgram';
import type { LocalAddress } from '../LocalInterface.js';
import type { MediaLeg, MediaPlane } from '../MediaPlane.js';
import { RelayLeg, type OffloadWatcher } from './RelayLeg.js';

/**
 * Media on this thread's sockets: each leg is a bound dgram socket relaying in userspace.
 * An offload watcher (the kernel fast path) may take confirmed streams off its hands.
 */
export class UserspacePlane implements MediaPlane {
  constructor(private readonly offload: (OffloadWatcher & { close(): Promise<void> }) | null = null) {}

  async allocatePair(local: LocalAddress): Promise<[MediaLeg, MediaLeg]> {
    const [rtp, rtcp] = await local.pool.allocatePair();
    return [this.leg(rtp, local, false), this.leg(rtcp, local, true)];
  }

  async bindReserved(local: LocalAddress, port: number, rtcpOnly: boolean): Promise<MediaLeg> {
    return this.leg(await local.pool.bindReserved(port), local, rtcpOnly);
  }

  private leg(socket: dgram.Socket, local: LocalAddress, rtcpOnly: boolean): RelayLeg {
    return new RelayLeg(socket, local.address, socket.address().port, local.family, rtcpOnly, this.offload);
  }

  async close(): Promise<void> {
    await this.offload?.close();
  }
}
