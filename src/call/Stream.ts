import type { LocalAddress } from '../media/LocalInterface.js';
import type { IcePair, LegSrtpState, MediaLeg } from '../media/MediaPlane.js';

export type Component = 1 | 2;

/** ICE: a port of the stream on another address of its interface (one more candidate), claimed in that address's pool. */
export interface AlternatePort {
  local: LocalAddress;
  port: number;
}

/**
 * One packet stream of a party (RTP or RTCP): the local port it is reached on and the
 * relay leg bound there. `leg` is null while the port could not be bound (a standby whose
 * peer still holds the address); the port is kept so that the bind can be retried.
 */
export class Stream {
  leg: MediaLeg | null = null;
  /** Why the last bind failed, for logs and the CLI. */
  bindError: string | null = null;
  /** The port is claimed in its pool (false only when another call held it). */
  reserved = true;
  binding = false;
  /** The endpoint a Redis record gave: applied when the leg gets bound (maybe later), kept for a takeover's record. */
  recordEndpoint: { address: string; port: number; confirmed: boolean } | null = null;
  /** The SRTP indices a Redis record gave: handed to the leg like `recordEndpoint`. */
  recordSrtp: LegSrtpState | null = null;
  /** ICE: the pair a Redis record gave, handed to the leg like `recordEndpoint`. */
  recordIcePair: IcePair | null = null;
  /** ICE: the stream's ports on the interface's other addresses, in candidate order after its own (empty without ICE). */
  alternates: AlternatePort[] = [];

  constructor(
    readonly component: Component,
    readonly local: LocalAddress,
    readonly localPort: number,
  ) {}

  get isRtcp(): boolean {
    return this.component === 2;
  }

  /** Gives up the alternates' ports (the stream no longer speaks ICE). */
  dropAlternates(): void {
    this.leg?.dropAlternates();
    for (const a of this.alternates) a.local.pool.release(a.port);
    this.alternates = [];
  }

  close(): void {
    for (const a of this.alternates) a.local.pool.release(a.port);
    this.alternates = [];
    if (this.leg) {
      this.leg.close();
      this.leg = null;
    }
    if (this.reserved) this.local.pool.release(this.localPort);
    this.reserved = false;
  }
}
