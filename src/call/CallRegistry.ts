import { moduleLogger } from '../log.js';
import { Call, type CloseReason } from './Call.js';
import { Statistics } from './Statistics.js';

const log = moduleLogger('registry');

/** Told about every change of a call: the Redis store listens here. */
export interface CallListener {
  changed?(call: Call): void;
  /** The call ended (delete, timeout, terminate); its record must go. */
  ended?(call: Call, reason: CloseReason): void;
}

/** All calls of this relay, own and foreign, by call-id. */
export class CallRegistry {
  private readonly calls = new Map<string, Call>();
  private readonly listeners: CallListener[] = [];
  readonly stats = new Statistics();

  listen(l: CallListener): void {
    this.listeners.push(l);
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** Live view of the table, for sweeps that must not copy it every second. */
  values(): IterableIterator<Call> {
    return this.calls.values();
  }

  all(): Call[] {
    return [...this.calls.values()];
  }

  get size(): number {
    return this.calls.size;
  }

  count(): { own: number; foreign: number } {
    let foreign = 0;
    for (const c of this.calls.values()) if (c.foreign) foreign++;
    return { own: this.calls.size - foreign, foreign };
  }

  /** Converted streams of live calls (own only: what `max-transcoded-media` counts). */
  transcodedMedia(ownOnly = false): number {
    let n = 0;
    for (const c of this.calls.values()) {
      if (c.deleted || (ownOnly && c.foreign)) continue;
      for (const m of c.medias()) n += m.conversions;
    }
    return n;
  }

  /** `created`: a call restored from a record keeps the time it began on its first relay. */
  create(callId: string, foreign: boolean, created = Date.now()): Call {
    const call = new Call(callId, created);
    call.foreign = foreign;
    this.calls.set(callId, call);
    if (foreign) this.stats.foreignSessionsCreated++;
    else this.stats.ownSessionsCreated++;
    log.debug({ callId, foreign }, 'call created');
    return call;
  }

  /** Signals that an own call changed and must be persisted. */
  changed(call: Call): void {
    if (call.destroyed) return;
    for (const l of this.listeners) l.changed?.(call);
  }

  /**
   * Ends a call: media sockets close, ports return to their pools, listeners remove its
   * record. `notify=false` drops a foreign copy without touching anybody's Redis data.
   */
  destroy(call: Call, reason: CloseReason, notify = true): void {
    if (call.destroyed) return;
    if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
    if (!call.foreign) this.countTraffic(call);
    call.close();
    this.stats.closed[reason]++;
    const duration = (Date.now() - call.created) / 1000;
    this.stats.closedDuration += duration;
    this.stats.closedDurationSquared += duration * duration;
    log.info({ callId: call.callId, reason, foreign: call.foreign }, 'call closed');
    if (notify) for (const l of this.listeners) l.ended?.(call, reason);
  }

  /** rtpengine's end-of-call figures: a managed session, and whether media went no way or one way. */
  private countTraffic(call: Call): void {
    this.stats.managedSessions++;
    const sending = call.parties().map((p) => p.medias.some((m) => m.streams().some((s) => !s.isRtcp && (s.leg?.packets ?? 0) > 0)));
    const senders = sending.filter(Boolean).length;
    if (senders === 0) this.stats.noPacketSessions++;
    else if (senders < sending.length) this.stats.oneWaySessions++;
  }

  /**
   * An unexpected exception while working on `call` (a command, a timer): rather than keep
   * whatever half-changed state it left, the call ends (sockets closed, ports back, record
   * removed) and the failure is counted.
   */
  contain(call: Call, err: unknown, where: string): void {
    this.stats.internalErrors++;
    log.error({ callId: call.callId, where, err: err instanceof Error ? err.stack : String(err) }, 'internal error: call ended');
    try {
      this.destroy(call, 'error');
    } catch (e) {
      this.forget(call);
      log.error({ callId: call.callId, err: e instanceof Error ? e.stack : String(e) }, 'call could not be closed cleanly');
    }
  }

  /**
   * `delete`: media stops now and the record goes now; sockets and state stay until the
   * delete-delay ends (0 = destroy at once).
   */
  markDeleted(call: Call, delayMs: number): void {
    if (call.destroyAt !== null) {
      // Deleted before: its record is gone already; a shorter delay may bring the end forward.
      if (delayMs <= 0) this.destroy(call, 'deleted', false);
      else call.destroyAt = Math.min(call.destroyAt, Date.now() + delayMs);
      return;
    }
    if (delayMs <= 0) {
      this.destroy(call, 'deleted');
      return;
    }
    call.destroyAt = Date.now() + delayMs;
    call.stopMedia();
    for (const l of this.listeners) l.ended?.(call, 'deleted');
  }

  /** Removes the call from the table without closing it (a replacement takes its place). */
  forget(call: Call): void {
    if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
  }
}
