import type { Call } from '../call/Call.js';
import { resumePlaybacks } from '../call/Playback.js';
import { moduleLogger } from '../log.js';
import type { Services } from '../Services.js';
import type { ClusterControl } from './ClusterControl.js';
import { decodeCall, RecordError, type CallRecord } from './CallRecord.js';
import { bindPending, relink, syncCallFromRecord } from './CallRestore.js';
import type { KeyspaceHandler, KeyspaceSubscriber } from './KeyspaceSubscriber.js';
import { claimBeats, updatesHeld } from './Ownership.js';
import { readRecords, readRecordText, scanKeys, type RedisConnections } from './RedisConnections.js';
import type { RedisStore } from './RedisStore.js';

const log = moduleLogger('cluster');

/** How long a resync waits before dropping foreign calls whose records are missing. */
const RESYNC_GRACE_MS = 3000;
/** ... again while the peer's keyspace is still growing, at most this many times. */
const RESYNC_MAX_ROUNDS = 5;

/**
 * Keeps the call table in line with Redis: FOREIGN copies of peers' calls (created, updated
 * in place, destroyed), start-up restore, and ownership. A record whose claim beats ours (see
 * Ownership.ts) means a peer took the call over: we yield. Taking a call over writes a higher
 * generation and removes the superseded record. Every change to a call runs on its queue.
 */
export class ClusterSync implements KeyspaceHandler, ClusterControl {
  private readonly perKey = new Map<string, Promise<void>>();
  /** Calls whose pending binds are being retried (not queued twice). */
  private readonly retrying = new WeakSet<Call>();
  subscriber: KeyspaceSubscriber | null = null;
  /** Foreign calls made ours, and own calls a peer took from us (metrics). */
  takeovers = 0;
  yields = 0;

  constructor(
    private readonly s: Services,
    private readonly readers: RedisConnections,
    private readonly store: RedisStore,
  ) {}

  /** Events of one key are handled in arrival order; keys run independently. */
  private serial(key: string, work: () => Promise<unknown>): Promise<void> {
    const prev = this.perKey.get(key) ?? Promise.resolve();
    const next = prev
      .then(work)
      .then(() => undefined)
      .catch((e: Error) => log.error({ key, err: e.message }, 'keyspace event handling failed'))
      .finally(() => {
        if (this.perKey.get(key) === next) this.perKey.delete(key);
      });
    this.perKey.set(key, next);
    return next;
  }

  written(db: number, key: string): void {
    void this.serial(key, () => this.readAndApply(db, key));
  }

  private async readAndApply(db: number, key: string): Promise<void> {
    const text = await readRecordText(await this.readers.ready(db), key);
    if (text === null) await this.claimedAndGone(db, key);
    else await this.applyText(db, key, text);
  }

  /**
   * A peer wrote a record for a call we own and removed it before we could read it: it took
   * the call over and ended it (a delete sent to it). Its takeover removed our record first,
   * so when ours is gone too the call is over; when ours is still there we took it back.
   */
  private async claimedAndGone(db: number, key: string): Promise<void> {
    const call = this.s.registry.get(key);
    const ours = (c: Call): boolean => !c.foreign && !c.deleted && db !== this.store.ownDb;
    if (!call || !ours(call)) return;
    if ((await (await this.readers.ready(this.store.ownDb)).exists(key)) === 1) return;
    await this.onCall(key, call, async () => {
      if (!ours(call)) return;
      log.info({ callId: key, db }, 'call was taken over and ended by a peer');
      this.s.registry.destroy(call, 'foreign_deleted', false);
    });
  }

  /**
   * Runs a change on the call's queue, in line with its NG commands and timers. The call may
   * have ended or been replaced by then: nothing runs on a copy that is no longer the call.
   */
  private onCall(key: string, call: Call, work: () => Promise<unknown>): Promise<void> {
    return call
      .serialize(async () => {
        if (call.destroyed || this.s.registry.get(key) !== call) return;
        await work();
      })
      .then(() => undefined);
  }

  deleted(db: number, key: string): void {
    // A DEL that is half of an update finds the key back already; the SADD event follows.
    void this.serial(key, () => this.dropIfGone(db, key, 'DEL event'));
  }

  /**
   * After a lost subscription (or ksadd): read the DB again, each key in line with its events.
   * A foreign call whose record is missing is dropped only if it is still missing after a
   * grace period (longer while the peer is still writing records back): a Redis that restarted
   * empty has our peer's calls back once the peer reconnected and rewrote them, while a call
   * that ended during the outage stays gone.
   */
  resync(db: number): void {
    void this.serial(`\0resync:${db}`, async () => {
      const keys = new Set(await scanKeys(await this.readers.ready(db)));
      await Promise.all([...keys].map((key) => this.serial(key, () => this.readAndApply(db, key))));
      const missing = this.s.registry.all().filter((c) => c.foreign && c.redisDb === db && !keys.has(c.callId)).map((c) => c.callId);
      log.info({ db, keys: keys.size, missing: missing.length }, 'keyspace resynced');
      let seen = keys.size;
      const dropLater = async (round: number): Promise<void> => {
        // A peer still writing its calls back (slowly, on a busy host) gets more time.
        const now = await (await this.readers.ready(db)).dbsize().catch(() => seen);
        if (now > seen && round < RESYNC_MAX_ROUNDS) {
          seen = now;
          setTimeout(() => void dropLater(round + 1), RESYNC_GRACE_MS).unref();
          return;
        }
        for (const key of missing) void this.serial(key, () => this.dropIfGone(db, key, 'record missing after resync'));
      };
      if (missing.length > 0) setTimeout(() => void dropLater(1), RESYNC_GRACE_MS).unref();
    });
  }

  /** Ends our foreign copy of a call held from `db` when its record there is gone. */
  private async dropIfGone(db: number, key: string, why: string): Promise<void> {
    const call = this.s.registry.get(key);
    if (!call) {
      log.debug({ db, key, why }, 'no call to drop');
      return;
    }
    if (!call.foreign || call.redisDb !== db) {
      log.debug({ db, key, why }, 'not dropped: not a foreign call held from that keyspace');
      return;
    }
    if ((await (await this.readers.ready(db)).exists(key)) === 1) return;
    await this.onCall(key, call, async () => {
      if (!call.foreign || call.redisDb !== db) return;
      log.info({ callId: key, db, why }, 'foreign call ended');
      this.s.registry.destroy(call, 'foreign_deleted', false);
    });
  }

  /** Start-up: peers' DBs as FOREIGN first, then our own DB as OWN. */
  async restoreAll(dbs: number[]): Promise<void> {
    for (const db of dbs) await this.readDb(db, 'foreign');
    await this.readDb(this.store.ownDb, 'own');
  }

  /** SCAN and pipelined reads; each record is applied in line with that key's events. */
  private async readDb(db: number, as: 'own' | 'foreign'): Promise<void> {
    const conn = await this.readers.ready(db);
    const keys = await scanKeys(conn);
    const records = await readRecords(conn, keys);
    let restored = 0;
    await Promise.all(
      [...records].map(([key, text]) =>
        this.serial(key, async () => {
          if (await (as === 'own' ? this.restoreOwn(key, text) : this.applyText(db, key, text))) restored++;
        }),
      ),
    );
    log.info({ db, as, keys: keys.length, restored }, 'keyspace read');
  }

  private decode(db: number, key: string, text: string): CallRecord | null {
    try {
      const rec = decodeCall(text);
      if (rec.callId !== key) throw new RecordError(`record call-id '${rec.callId}' differs from key`);
      return rec;
    } catch (e) {
      // Never deleted by a reader: the owner may still need it, an operator may inspect it.
      log.error({ db, key, err: (e as Error).message }, 'Skipping corrupt call record in Redis');
      return null;
    }
  }

  private async restoreOwn(key: string, text: string): Promise<boolean> {
    const rec = this.decode(this.store.ownDb, key, text);
    if (!rec) return false;
    const existing = this.s.registry.get(key);
    const call = existing ?? this.s.registry.create(key, false, rec.created);
    let restored = false;
    await this.onCall(key, call, async () => {
      if (existing && existing.generation > rec.generation) {
        log.info({ callId: key, ours: rec.generation, theirs: existing.generation, owner: existing.ownerId }, 'call was taken over by a peer; dropping our stale record');
        this.store.removeStale(key, this.store.ownDb);
        return;
      }
      call.foreign = false;
      call.redisDb = this.store.ownDb;
      await this.syncCall(call, rec);
      restored = true;
    });
    return restored;
  }

  /**
   * A peer's record: creates or updates our FOREIGN copy, or (a takeover by that peer) makes an
   * own call foreign. Decided on the call's queue against the claim held then (generation,
   * then node id), so concurrent takeovers end with one owner on every relay.
   */
  private async applyText(db: number, key: string, text: string): Promise<boolean> {
    const rec = this.decode(db, key, text);
    if (!rec) return false;
    const existing = this.s.registry.get(key);
    if (existing && this.decide(db, existing, rec) === 'ignore') return false;
    if (!existing && this.unsubscribed(db, key)) return false;
    const call = existing ?? this.s.registry.create(key, true, rec.created);
    let applied = false;
    await this.onCall(key, call, async () => {
      const decision = call === existing ? this.decide(db, call, rec) : 'apply';
      if (decision === 'ignore') return;
      if (decision === 'yield') {
        // A peer took our call over: become its standby, drop our record.
        log.info({ callId: key, generation: rec.generation, owner: rec.owner }, 'call taken over by a peer; yielding');
        this.yields++;
        this.store.removeStale(key, this.store.ownDb);
      }
      call.foreign = true;
      call.redisDb = db;
      await this.syncCall(call, rec);
      applied = true;
    });
    if (!applied && call !== existing && this.s.registry.get(key) === call && call.parties().length === 0) this.s.registry.forget(call);
    return applied;
  }

  /** An event read before `ksrm` finished must not bring back a call ksrm just removed. */
  private unsubscribed(db: number, key: string): boolean {
    if (!this.subscriber || this.subscriber.has(db)) return false;
    log.debug({ callId: key, db }, 'Ignoring record of a keyspace no longer subscribed');
    return true;
  }

  /** What a peer's record does to a call we hold. */
  private decide(db: number, call: Call, rec: CallRecord): 'apply' | 'yield' | 'ignore' {
    if (this.unsubscribed(db, call.callId)) return 'ignore';
    const held = { generation: call.generation, owner: call.ownerId };
    if (!call.foreign) {
      if (call.deleted || !claimBeats(rec, held)) {
        log.debug({ callId: call.callId, db, generation: rec.generation, owner: rec.owner }, 'Ignoring update received for OWN call');
        return 'ignore';
      }
      return 'yield';
    }
    if (!claimBeats(rec, held) && !updatesHeld(rec, held)) {
      log.debug({ callId: call.callId, db, generation: rec.generation, owner: rec.owner }, 'Ignoring record of a claim that lost to the one held');
      return 'ignore';
    }
    return 'apply';
  }

  private async syncCall(call: Call, rec: CallRecord): Promise<void> {
    await syncCallFromRecord(this.s, call, rec);
    this.watch(call);
  }

  /** Media on a foreign call takes it over (active-switchover). */
  private watch(call: Call): void {
    const on = call.foreign && this.s.config.activeSwitchover;
    for (const st of call.streams()) st.leg?.watchActivity(on);
  }

  /** Makes a foreign call ours: higher generation, written to our DB, the old record removed. */
  takeOver(call: Call): void {
    if (!call.foreign || call.destroyed) return;
    const oldDb = call.redisDb;
    call.foreign = false;
    call.generation++;
    call.ownerId = this.s.config.nodeId;
    call.redisDb = this.store.ownDb;
    // The call's own timeouts start now, not when the owner last saw signalling.
    call.lastSignal = Date.now();
    this.watch(call);
    resumePlaybacks(call);
    log.info({ callId: call.callId, fromDb: oldDb, generation: call.generation }, 'call taken over');
    this.takeovers++;
    this.s.registry.changed(call);
    if (oldDb >= 0 && oldDb !== this.store.ownDb) this.store.removeStale(call.callId, oldDb);
  }

  /** Media reached a foreign call (active-switchover): it becomes ours, in line with its other changes. */
  takeOverOnMedia(call: Call, graceMs: number): void {
    void this.onCall(call.callId, call, async () => {
      if (!call.foreign) return;
      call.graceUntil = Date.now() + graceMs;
      this.takeOver(call);
    }).catch((e: Error) => log.error({ callId: call.callId, err: e.message }, 'takeover on media failed'));
  }

  /** The 1 s sweep: ports a standby could not bind before (the owner still held them) are retried. */
  retryBinds(): void {
    for (const call of this.s.registry.all()) {
      if (call.destroyed || this.retrying.has(call) || !call.streams().some((st) => !st.leg && st.reserved && !st.binding)) continue;
      this.retrying.add(call);
      void this.onCall(call.callId, call, async () => {
        if (!(await bindPending(this.s, call)) || call.destroyed) return;
        relink(this.s, call);
        this.watch(call);
      })
        .catch((e: Error) => log.error({ callId: call.callId, err: e.message }, 'retrying binds failed'))
        .finally(() => this.retrying.delete(call));
    }
  }

  async ksadd(db: number): Promise<boolean> {
    if (!this.subscriber || !(await this.subscriber.add(db))) return false;
    this.resync(db);
    return true;
  }

  async ksrm(db: number): Promise<boolean> {
    if (!this.subscriber || !(await this.subscriber.remove(db))) return false;
    const gone = this.s.registry.all().filter((call) => call.foreign && call.redisDb === db);
    await Promise.all(gone.map((call) => this.onCall(call.callId, call, async () => {
      if (call.foreign && call.redisDb === db) this.s.registry.destroy(call, 'terminated', false);
    })));
    return true;
  }

  kslist(): number[] {
    return this.subscriber?.list() ?? [];
  }

  async setActive(active: boolean): Promise<void> {
    await Promise.all(this.s.registry.all().map((call) => this.onCall(call.callId, call, async () => {
      if (active && call.foreign) this.takeOver(call);
      else if (!active && !call.foreign) {
        call.foreign = true;
        this.watch(call);
      }
    })));
  }
}
