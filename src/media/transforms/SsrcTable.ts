import { ReplayWindow } from './ReplayWindow.js';

/** SSRCs tracked per direction (bounded state per leg). */
export const MAX_SSRCS = 64;
/** A stream with no accepted packet for this long may give its slot to a new one. */
export const SSRC_IDLE_MS = 10_000;

/** Per-SSRC state of one direction (RFC 3711 3.2.1 cryptographic context). */
export class SsrcState {
  roc = 0;
  /** Highest sequence number seen (s_l); -1 before the first packet. */
  seq = -1;
  readonly replay = new ReplayWindow();
  /** SRTCP: our next index (protect) */
  rtcpIndex = 0;
  readonly rtcpReplay = new ReplayWindow();
  /** Indices from a record, no packet since: a newer record may still replace them. */
  seeded = false;
  /** When a packet of this SSRC was last accepted (ms). */
  lastSeen = 0;
}

/**
 * The per-SSRC states of one direction. A state is added only for a packet the session has
 * accepted (authenticated, when unprotecting), and when the table is full it takes the slot of
 * a stream that has idled, never of a live one: a flood of forged SSRCs cannot push a real
 * stream's rollover counter and replay window out (libsrtp authenticates against a template
 * before it creates a stream, for the same reason).
 */
export class SsrcTable {
  private readonly states = new Map<number, SsrcState>();

  constructor(private readonly max = MAX_SSRCS) {}

  get(ssrc: number): SsrcState | undefined {
    return this.states.get(ssrc);
  }

  get size(): number {
    return this.states.size;
  }

  /** Whether a new SSRC could be added now. */
  hasRoom(now: number): boolean {
    return this.states.size < this.max || this.idlest(now) !== undefined;
  }

  /** A new state for `ssrc`, in a free slot or an idle stream's; null when every slot is live. */
  add(ssrc: number, now: number): SsrcState | null {
    if (this.states.size >= this.max) {
      const victim = this.idlest(now);
      if (victim === undefined) return null;
      this.states.delete(victim);
    }
    const s = new SsrcState();
    s.lastSeen = now;
    this.states.set(ssrc, s);
    return s;
  }

  entries(): IterableIterator<[number, SsrcState]> {
    return this.states.entries();
  }

  /** The SSRC idle longest, if it idled long enough to be replaced. */
  private idlest(now: number): number | undefined {
    let oldest: number | undefined;
    let at = now - SSRC_IDLE_MS;
    for (const [ssrc, s] of this.states) {
      if (s.lastSeen <= at) {
        oldest = ssrc;
        at = s.lastSeen;
      }
    }
    return oldest;
  }
}
