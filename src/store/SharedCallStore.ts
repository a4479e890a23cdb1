import type { Call, CloseReason } from '../call/Call.js';
import type { CallListener } from '../call/CallRegistry.js';
import { moduleLogger } from '../log.js';
import { encodeCall } from './CallRecord.js';
import type { SharedKeyspace } from './SharedKeyspace.js';
import { WriteBehind } from './WriteBehind.js';

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
 * Persists own calls in the shared keyspace through the write-behind queue (one operation per
 * call, the newest state wins), never awaited by media, kept and re-sent while the store is
 * away; after a reconnection (a Sentinel or Cluster failover may have lost recent writes) every
 * own call is written again. A write only lands while this node still owns that generation.
 *
 * What a reply waits for: ownership, never the record. The claim (before the offer runs) and
 * the release (a delete's reply waits for it, bounded) are the call's one round trip; record
 * writes go behind the reply, in the next tick, batched with every other call's. A node that
 * dies loses at most the changes of its last moments from the records (they serve `query` of a
 * dead node's call only); its ownership is never in doubt.
 */
export class SharedCallStore implements CallListener {
  private readonly writes: WriteBehind<Op>;
  private outage = false;
  private settling: NodeJS.Timeout | null = null;
  private closed = false;
  /** Writes refused because another node owns the call now. */
  lostOwnership = 0;

  constructor(
    private readonly ks: SharedKeyspace,
    private readonly nodeId: string,
    private readonly claims: Claims,
    maxWaitMs: number,
    /** Own calls to write again after the store came back (its data may be gone). */
    private readonly allOwnCalls: () => Call[] = () => [],
  ) {
    this.writes = new WriteBehind<Op>({ ready: () => !this.outage, merge: (_ops, op) => [op], run: (callId, ops) => this.run(callId, ops) }, maxWaitMs);
    const c = ks.conn;
    c.on('close', () => {
      if (!this.outage) log.warn('Lost connection to the store; changes are kept and written on reconnect');
      this.outage = true;
    });
    c.on('ready', () => {
      if (this.outage) this.writeAllAgain('Store connection re-established');
      this.outage = false;
      this.writes.kick();
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
      }, NODE_SETTLE_MS);
    });
  }

  get writeFailures(): number {
    return this.writes.failures;
  }

  /** Before the connection closes (which drops every node): no more writing all calls again. */
  close(): void {
    this.closed = true;
    if (this.settling) clearTimeout(this.settling);
    this.writes.close();
  }

  private writeAllAgain(why: string): void {
    const calls = this.allOwnCalls();
    log.warn({ calls: calls.length }, `${why}; writing all own calls again`);
    for (const call of calls) this.writes.add(call.callId, { kind: 'write', call });
  }

  changed(call: Call): void {
    if (call.foreign || call.deleted || call.destroyed) return;
    this.writes.add(call.callId, { kind: 'write', call });
  }

  ended(call: Call, _reason: CloseReason): void {
    if (call.foreign) return;
    const gen = this.claims.gen(call.callId);
    this.claims.drop(call.callId);
    if (gen === undefined) return;
    this.writes.add(call.callId, { kind: 'delete', gen });
  }

  /** Resolves when the call's release is in the store (bounded wait); a record write is not waited for. */
  flushed(call: Call): Promise<void> {
    if (this.writes.queued(call.callId)?.[0]?.kind !== 'delete') return Promise.resolve();
    return this.writes.flushed(call.callId);
  }

  get pendingCount(): number {
    return this.writes.size;
  }

  private async run(callId: string, ops: Op[]): Promise<Op[]> {
    const op = ops[0]!;
    try {
      if (op.kind === 'delete') {
        await this.ks.release(callId, this.nodeId, op.gen);
        return [];
      }
      const call = op.call;
      if (call.destroyed || call.deleted) return [];
      const gen = this.claims.gen(callId);
      if (gen === undefined) return [];
      call.generation = gen;
      if (!(await this.ks.write(callId, this.nodeId, gen, encodeCall(call, 0)))) {
        this.lostOwnership++;
        log.warn({ callId, gen }, 'another node owns this call now; record not written');
      }
      return [];
    } catch (e) {
      log.warn({ callId, op: op.kind, err: (e as Error).message }, 'store update failed; will retry');
      return ops;
    }
  }
}
