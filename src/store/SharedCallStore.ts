import type { Call, CloseReason } from '../call/Call.js';
import type { CallListener } from '../call/CallRegistry.js';
import { moduleLogger } from '../log.js';
import { encodeCall } from './CallRecord.js';
import type { SharedKeyspace } from './SharedKeyspace.js';

const log = moduleLogger('store');

/** Quiet time after the last store node dropped before all own calls are written again. */
const NODE_SETTLE_MS = 1000;

type Op = { kind: 'write'; call: Call } | { kind: 'delete'; gen: number };

/** Generations this node holds, by call-id: what the store writes and releases with. */
export interface Claims {
  gen(callId: string): number | undefined;
  drop(callId: string): void;
}

/**
 * Persists own calls in the shared keyspace. As in the static store: one queued operation per
 * call (the newest state wins), never awaited by media, kept and re-sent while the store is
 * away; after a reconnection (a Sentinel or Cluster failover may have lost recent writes) every
 * own call is written again. A write only lands while this node still owns that generation.
 */
export class SharedCallStore implements CallListener {
  private readonly queue = new Map<string, Op>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private running = false;
  private scheduled = false;
  private outage = false;
  private settling: NodeJS.Timeout | null = null;
  private closed = false;
  writeFailures = 0;
  /** Writes refused because another node owns the call now. */
  lostOwnership = 0;

  constructor(
    private readonly ks: SharedKeyspace,
    private readonly nodeId: string,
    private readonly claims: Claims,
    private readonly maxWaitMs: number,
    /** Own calls to write again after the store came back (its data may be gone). */
    private readonly allOwnCalls: () => Call[] = () => [],
  ) {
    const c = ks.conn;
    c.on('close', () => {
      if (!this.outage) log.warn('Lost connection to the store; changes are kept and written on reconnect');
      this.outage = true;
    });
    c.on('ready', () => {
      if (this.outage) this.writeAllAgain('Store connection re-established');
      this.outage = false;
      this.kick();
    });
    // Redis Cluster: when a master dies and its replica takes over, the client drops that node
    // (again on every redirection to it until the failover is over) without closing as a whole;
    // what the master had not replicated yet is gone. Once the drops stop, all is written again.
    c.on('-node', () => {
      if (this.closed) return;
      if (this.settling) clearTimeout(this.settling);
      this.settling = setTimeout(() => {
        this.settling = null;
        this.writeAllAgain('A store node left (Redis Cluster failover)');
        this.kick();
      }, NODE_SETTLE_MS);
    });
  }

  /** Before the connection closes (which drops every node): no more writing all calls again. */
  close(): void {
    this.closed = true;
    if (this.settling) clearTimeout(this.settling);
  }

  private writeAllAgain(why: string): void {
    const calls = this.allOwnCalls();
    log.warn({ calls: calls.length }, `${why}; writing all own calls again`);
    for (const call of calls) this.queue.set(call.callId, { kind: 'write', call });
  }

  changed(call: Call): void {
    if (call.foreign || call.deleted || call.destroyed) return;
    this.queue.set(call.callId, { kind: 'write', call });
    this.kick();
  }

  ended(call: Call, _reason: CloseReason): void {
    if (call.foreign) return;
    const gen = this.claims.gen(call.callId);
    this.claims.drop(call.callId);
    if (gen === undefined) return;
    this.queue.set(call.callId, { kind: 'delete', gen });
    this.kick();
  }

  /** Resolves when the call's queued state is in the store, or after the bounded wait. */
  flushed(call: Call): Promise<void> {
    if (!this.queue.has(call.callId) || this.outage) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.maxWaitMs);
      const list = this.waiters.get(call.callId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(call.callId, list);
    });
  }

  get pendingCount(): number {
    return this.queue.size;
  }

  private kick(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.size > 0) {
        const batch = [...this.queue.entries()];
        this.queue.clear();
        const ok = await Promise.all(batch.map(([callId, op]) => this.run(callId, op)));
        let failed = false;
        batch.forEach(([callId, op], i) => {
          if (ok[i]) {
            const list = this.waiters.get(callId);
            this.waiters.delete(callId);
            for (const w of list ?? []) w();
          } else {
            failed = true;
            if (!this.queue.has(callId)) this.queue.set(callId, op);
          }
        });
        if (failed) {
          setTimeout(() => this.kick(), 200);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async run(callId: string, op: Op): Promise<boolean> {
    try {
      if (op.kind === 'delete') {
        await this.ks.release(callId, this.nodeId, op.gen);
        return true;
      }
      const call = op.call;
      if (call.destroyed || call.deleted) return true;
      const gen = this.claims.gen(callId);
      if (gen === undefined) return true;
      call.generation = gen;
      if (!(await this.ks.write(callId, this.nodeId, gen, encodeCall(call, 0)))) {
        this.lostOwnership++;
        log.warn({ callId, gen }, 'another node owns this call now; record not written');
      }
      return true;
    } catch (e) {
      this.writeFailures++;
      log.warn({ callId, op: op.kind, err: (e as Error).message }, 'store update failed; will retry');
      return false;
    }
  }
}
