import type { Call, CloseReason } from '../call/Call.js';
import type { CallListener } from '../call/CallRegistry.js';
import { moduleLogger } from '../log.js';
import { encodeCall } from './CallRecord.js';
import type { RedisConnections } from './RedisConnections.js';
import { WriteBehind } from './WriteBehind.js';

const log = moduleLogger('store');

type Op = { kind: 'write'; call: Call } | { kind: 'delete'; callId: string; db: number };

/**
 * Persists own calls into this relay's DB through the write-behind queue (the newest state of a
 * call wins), each write atomic (MULTI: DEL, SADD, EXPIRE, so subscribers see DEL then SADD);
 * never awaited by the media path; while Redis is away the queue keeps them and they go out on
 * reconnect. A reply waits for its call's write (bounded): a standby has the call before the
 * proxy learns of it.
 */
export class RedisStore implements CallListener {
  private readonly writes: WriteBehind<Op>;
  private connectedOnce = false;
  private outage = false;
  constructor(
    private readonly conns: RedisConnections,
    readonly ownDb: number,
    private readonly expires: number,
    maxWaitMs: number,
    /** Own calls to write again after Redis came back (its data may be gone). */
    private readonly allOwnCalls: () => Call[] = () => [],
  ) {
    this.writes = new WriteBehind<Op>({ ready: () => this.connected, merge: (ops, op) => this.merge(ops, op), run: (callId, ops) => this.run(callId, ops) }, maxWaitMs);
    const c = conns.get(ownDb);
    // Start-up usually waited for the connection already: no 'ready' event will come for it.
    this.connectedOnce = c.status === 'ready';
    c.on('ready', () => this.onReady());
    c.on('close', () => {
      if (this.connectedOnce && !this.outage) {
        this.outage = true;
        log.warn({ db: ownDb }, 'Lost connection to Redis; changes are kept and written on reconnect');
      }
    });
  }

  /** Writes and deletes Redis refused or timed out (each is retried), for metrics. */
  get writeFailures(): number {
    return this.writes.failures;
  }

  private onReady(): void {
    if (this.outage) {
      log.info({ db: this.ownDb }, 'Re-established connection to Redis; writing all own calls again');
      for (const call of this.allOwnCalls()) this.writes.add(call.callId, { kind: 'write', call });
    }
    this.connectedOnce = true;
    this.outage = false;
    this.writes.kick();
  }

  changed(call: Call): void {
    if (call.foreign || call.deleted) return;
    call.redisDb = this.ownDb;
    this.writes.add(call.callId, { kind: 'write', call });
  }

  ended(call: Call, _reason: CloseReason): void {
    // Foreign copies are the owner's business: never delete its data.
    if (call.foreign) return;
    this.writes.add(call.callId, { kind: 'delete', callId: call.callId, db: this.ownDb });
  }

  /** Removes a record that a takeover superseded, in the DB it was written to. */
  removeStale(callId: string, db: number, after?: Call): void {
    const ops = [...(this.writes.queued(callId) ?? [])];
    if (after) ops.push({ kind: 'write', call: after });
    ops.push({ kind: 'delete', callId, db });
    this.writes.set(callId, ops);
  }

  private merge(ops: readonly Op[], op: Op): Op[] {
    // Only the newest state of the own record matters; a stale-record delete elsewhere must stay,
    // and stay behind the takeover write it followed: a third relay that saw the old owner's DEL
    // before our record would drop its copy of the call and build it again.
    const stale = (o: Op): boolean => o.kind === 'delete' && o.db !== this.ownDb;
    const firstOwn = ops.findIndex((o) => !stale(o));
    const cut = firstOwn < 0 ? ops.length : firstOwn;
    return [...ops.slice(0, cut).filter(stale), op, ...ops.slice(cut).filter(stale)];
  }

  /** Resolves when the call's queued state reached Redis, or after the bounded wait. */
  flushed(call: Call): Promise<void> {
    return this.writes.flushed(call.callId);
  }

  get pendingCount(): number {
    return this.writes.size;
  }

  get connected(): boolean {
    return this.conns.get(this.ownDb).status === 'ready';
  }

  private async run(callId: string, ops: Op[]): Promise<Op[]> {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      try {
        if (op.kind === 'write') {
          if (op.call.destroyed || op.call.foreign) continue;
          const json = encodeCall(op.call, this.ownDb);
          await this.conns.get(this.ownDb).multi().del(callId).sadd(callId, json).expire(callId, this.expires).exec();
        } else {
          await this.conns.get(op.db).del(callId);
        }
      } catch (e) {
        log.warn({ callId, op: op.kind, err: (e as Error).message }, 'Redis update failed; will retry');
        return ops.slice(i);
      }
    }
    return [];
  }
}
