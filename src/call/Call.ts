import type { LegSettings } from './LegSettings.js';
import type { Media } from './Media.js';
import { Monologue } from './Monologue.js';
import { newPartyControl, type PartyControl } from './PartyControl.js';
import type { Stream } from './Stream.js';

/** A subscriber loses its subscriptions (unsubscribe, a source gone): its ports go, its tag stays. */
export function dropSubscriptions(ml: Monologue): void {
  for (const src of ml.subscriptions) src.subscribers = src.subscribers.filter((x) => x !== ml);
  ml.subscriptions = [];
  for (const m of ml.medias) m.close();
  ml.medias = [];
}

export type CloseReason = 'deleted' | 'timeout' | 'silent_timeout' | 'offer_timeout' | 'final_timeout' | 'terminated' | 'foreign_deleted' | 'error';

/** A call: its parties, who owns it, and where its record lives in Redis. */
export class Call {
  readonly monologues = new Map<string, Monologue>();
  /** The callee side between offer and answer, before its tag is known. */
  pending: Monologue | null = null;
  /** The party that sent the latest offer: FROM_TAG in `list sessions` (a callee's re-INVITE flips it). */
  offerer: Monologue | null = null;
  lastSignal: number;
  /** Created from a peer's Redis record; never written back, only final-timeout applies. */
  foreign = false;
  /** The DB its record is in: ours for own calls, the peer's for foreign ones; -1 = never written. */
  redisDb = -1;
  /** The relay that owns the call, and the ownership generation (see docs/redis.md). */
  ownerId = '';
  generation = 0;
  /** Source ip:port of the NG request that created it. */
  createdFrom = '';
  tos = 0;
  /** Set by delete: the call is destroyed at this time (ms). */
  destroyAt: number | null = null;
  destroyed = false;
  /** pcap recording in progress. */
  recording: { close(): void } | null = null;
  recordRequested = false;
  /** Learning flags chosen by signalling; restored with the call. */
  legSettings: LegSettings | null = null;
  /** Block/silence/forwarding set on the whole call (`block media` without a party ...). */
  readonly control: PartyControl = newPartyControl();
  /** A foreign call taken over by media must wait this long for its first own timeout. */
  graceUntil = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly callId: string,
    readonly created: number,
  ) {
    this.lastSignal = created;
  }

  /** Runs signalling work on this call one request at a time (port allocation is async). */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  parties(): Monologue[] {
    const list = [...this.monologues.values()];
    if (this.pending) list.push(this.pending);
    return list;
  }

  medias(): Media[] {
    return this.parties().flatMap((m) => m.medias);
  }

  streams(): Stream[] {
    return this.medias().flatMap((m) => m.streams());
  }

  /** `start forwarding` is on for the call or one of its parties. */
  get forwarding(): boolean {
    return this.control.forwarding || this.parties().some((p) => p.control.forwarding);
  }

  get deleted(): boolean {
    return this.destroyAt !== null;
  }

  findByTag(tag: string): Monologue | undefined {
    return this.monologues.get(tag);
  }

  addMonologue(tag: string, now: number, interfaceName: string): Monologue {
    const ml = new Monologue(tag, now, interfaceName);
    this.monologues.set(tag, ml);
    return ml;
  }

  /** Gives the pending callee side its tag once the answer names it. */
  namePending(tag: string): Monologue {
    const ml = this.pending!;
    this.pending = null;
    ml.tag = tag;
    this.monologues.set(tag, ml);
    return ml;
  }

  /**
   * What deleting the party `ml` leaves, as rtpengine decides it: `ml` goes, and so does every
   * party whose only partner it was. Null when fewer than two tagged parties (and no pending
   * callee) would remain: then the whole call ends.
   */
  branchRemoval(ml: Monologue): Monologue[] | null {
    const gone = new Set([ml]);
    for (const other of this.parties()) {
      if (other === ml || other.peer !== ml) continue;
      const partnered = this.parties().some((x) => x !== ml && x !== other && x.peer === other);
      if (!partnered) gone.add(other);
    }
    const tagged = [...this.monologues.values()].filter((m) => !gone.has(m)).length;
    const pending = this.pending !== null && !gone.has(this.pending);
    return tagged < 2 && !pending ? null : [...gone];
  }

  /** Removes parties (a deleted branch): their ports close, nobody points at them any more. */
  removeParties(gone: Monologue[]): void {
    for (const ml of gone) {
      ml.close();
      if (this.pending === ml) this.pending = null;
      else if (this.monologues.get(ml.tag) === ml) this.monologues.delete(ml.tag);
      if (this.offerer === ml) this.offerer = null;
    }
    for (const other of this.parties()) {
      if (other.peer && gone.includes(other.peer)) other.peer = null;
      other.subscribers = other.subscribers.filter((x) => !gone.includes(x));
      if (other.subscriptions.some((x) => gone.includes(x))) dropSubscriptions(other);
    }
  }

  /** Stops media at once (delete), keeping sockets until the delete-delay ends. */
  stopMedia(): void {
    for (const s of this.streams()) s.leg?.stop();
  }

  close(): void {
    this.destroyed = true;
    this.recording?.close();
    this.recording = null;
    for (const ml of this.parties()) ml.close();
  }
}
