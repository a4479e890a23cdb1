import type { Call, CloseReason } from '../call/Call.js';
import type { CallListener } from '../call/CallRegistry.js';
import { moduleLogger } from '../log.js';
import { encodeCall } from './CallRecord.js';
import type { RedisConnections } from './RedisConnections.js';

const log = moduleLogger('store');

type Op = { kind: 'write'; call: Call } | { kind: 'delete'; callId: string; db: number };

interface Waiter {
  resolve: () => void;
}

/**
 * Persists own calls into this relay's DB. Writes are queued per call (the newest state wins),
 * sent atomically (MULTI: DEL, SADD, EXPIRE, so subscribers see DEL then SADD), never awaited
 * by the media path; while Redis is away the queue keeps them and they go out on reconnect.
 */
export class RedisStore implements CallListener {
  private readonly queue = new Map<string, Op[]>();
  private readonly waiters = new Map<string, Waiter[]>();
  private draining = false;
  private scheduled = false;
  private connectedOnce = false;
  private outage = false;
  /** Writes and deletes Redis refused or timed out (each is retried), for metrics. */
  writeFailures = 0;
  constructor(
    private readonly conns: RedisConnections,
    readonly ownDb: number,
    private readonly expires: number,
    private readonly maxWaitMs: number,
    /** Own calls to write again after Redis came back (its data may be gone). */
    private readonly allOwnCalls: () => Call[] = () => [],
  ) {
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

  private onReady(): void {
    if (this.outage) {
      log.info({ db: this.ownDb }, 'Re-established connection to Redis; writing all own calls again');
      for (const call of this.allOwnCalls()) this.enqueue(call.callId, { kind: 'write', call });
    }
    this.connectedOnce = true;
    this.outage = false;
    this.kick();
  }

  changed(call: Call): void {
    if (call.foreign || call.deleted) return;
    call.redisDb = this.ownDb;
    this.enqueue(call.callId, { kind: 'write', call });
  }

  ended(call: Call, _reason: CloseReason): void {
    // Foreign copies are the owner's business: never delete its data.
    if (call.foreign) return;
    this.enqueue(call.callId, { kind: 'delete', callId: call.callId, db: this.ownDb });
  }

  /** Removes a record that a takeover superseded, in the DB it was written to. */
  removeStale(callId: string, db: number, after?: Call): void {
    const ops = this.queue.get(callId) ?? [];
    if (after) ops.push({ kind: 'write', call: after });
    ops.push({ kind: 'delete', callId, db });
    this.queue.set(callId, ops);
    this.kick();
  }

  private enqueue(callId: string, op: Op): void {
    const ops = this.queue.get(callId) ?? [];
    // Only the newest state of the own record matters; a stale-record delete elsewhere must stay,
    // and stay behind the takeover write it followed: a third relay that saw the old owner's DEL
    // before our record would drop its copy of the call and build it again.
    const stale = (o: Op): boolean => o.kind === 'delete' && o.db !== this.ownDb;
    const firstOwn = ops.findIndex((o) => !stale(o));
    const cut = firstOwn < 0 ? ops.length : firstOwn;
    this.queue.set(callId, [...ops.slice(0, cut).filter(stale), op, ...ops.slice(cut).filter(stale)]);
    this.kick();
  }

  /** Resolves when the call's queued state reached Redis, or after the bounded wait. */
  flushed(call: Call): Promise<void> {
    // While Redis is away the write waits for the reconnection: reply at once, as rtpengine does.
    if (!this.queue.has(call.callId) || this.conns.get(this.ownDb).status !== 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        log.warn({ callId: call.callId, waitedMs: this.maxWaitMs }, 'Redis write still pending; replying anyway');
        resolve();
      }, this.maxWaitMs);
      const list = this.waiters.get(call.callId) ?? [];
      list.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      this.waiters.set(call.callId, list);
    });
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  get connected(): boolean {
    return this.conns.get(this.ownDb).status === 'ready';
  }

  private kick(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.size > 0) {
        if (this.conns.get(this.ownDb).status !== 'ready') return;
        const batch = [...this.queue.entries()];
        this.queue.clear();
        const results = await Promise.all(batch.map(([callId, ops]) => this.run(callId, ops)));
        let failed = false;
        batch.forEach(([callId, ops], i) => {
          if (results[i]) {
            this.resolveWaiters(callId);
            return;
          }
          failed = true;
          // Keep what failed unless something newer was queued meanwhile.
          if (!this.queue.has(callId)) this.queue.set(callId, ops);
        });
        if (failed) return;
      }
    } finally {
      this.draining = false;
      if (this.queue.size > 0 && this.conns.get(this.ownDb).status === 'ready') setTimeout(() => this.kick(), 200);
    }
  }

  private async run(callId: string, ops: Op[]): Promise<boolean> {
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
        this.writeFailures++;
        log.warn({ callId, op: op.kind, err: (e as Error).message }, 'Redis update failed; will retry');
        ops.splice(0, i);
        return false;
      }
    }
    return true;
  }

  private resolveWaiters(callId: string): void {
    const list = this.waiters.get(callId);
    if (!list) return;
    this.waiters.delete(callId);
    for (const w of list) w.resolve();
  }
}
