import { moduleLogger } from '../log.js';
import { MemberLink } from './MemberLink.js';
import type { MemberSpec } from './MemberSpec.js';

const log = moduleLogger('balancer');

/** ACTIVE takes new calls; SUSPENDED and DRAINING do not (DRAINING leaves once its calls end). */
export type MemberStatus = 'ACTIVE' | 'SUSPENDED' | 'DRAINING';

export interface MemberCounters {
  /** Offers this member accepted from the balancer. */
  placed: number;
  /** Requests it did not answer, answered with garbage, or offers it refused. */
  failures: number;
  /** Round-trip time of the last answered ping, ms. */
  lastPingMs: number | null;
}

/** One relay of a cluster: its settings, health, status and the calls it holds. */
export class Member {
  readonly link: MemberLink;
  online = false;
  status: MemberStatus = 'ACTIVE';
  /** Call-ids this member holds, as far as the balancer knows. */
  readonly calls = new Set<string>();
  readonly counters: MemberCounters = { placed: 0, failures: 0, lastPingMs: null };
  /** Missed pings in a row. */
  misses = 0;
  /** Smooth weighted round-robin state (see Placement). */
  currentWeight = 0;
  /** Set once `delete` was forced or the last call of a DRAINING member ended. */
  removed = false;

  constructor(
    public spec: MemberSpec,
    timeoutMs: number,
  ) {
    this.link = new MemberLink(spec.address, timeoutMs);
  }

  get name(): string {
    return this.spec.name;
  }

  get address(): string {
    return `${this.spec.address.host}:${this.spec.address.port}`;
  }

  /** Whether new calls may go here. */
  get accepting(): boolean {
    return this.online && this.status === 'ACTIVE' && !this.removed && this.calls.size < this.spec.capacity;
  }

  markOnline(rttMs: number): boolean {
    this.counters.lastPingMs = rttMs;
    this.misses = 0;
    if (this.online) return false;
    this.online = true;
    log.info({ member: this.name, address: this.address }, 'member online');
    return true;
  }

  /** A missed ping; true when it just turned this member offline. */
  markMiss(failures: number): boolean {
    this.misses++;
    if (!this.online || this.misses < failures) return false;
    this.online = false;
    log.warn({ member: this.name, address: this.address, misses: this.misses }, 'member offline');
    return true;
  }

  close(): void {
    this.link.close();
  }
}
