import { Redis } from 'ioredis';
import type { RedisSpec } from '../config/RedisSpec.js';
import { moduleLogger } from '../log.js';
import { redisOptions, type ConnectionSettings } from './RedisConnections.js';

const log = moduleLogger('subscriber');

/** What the subscriber reports; the ForeignCalls manager acts on it. */
export interface KeyspaceHandler {
  /** `sadd` / `set` on a key of a subscribed DB: the record was written. */
  written(db: number, key: string): void;
  /** `del` on a key: the record was removed (or is about to be rewritten). */
  deleted(db: number, key: string): void;
  /** (Re)subscribed after a connection loss or at ksadd: read the whole DB again. */
  resync(db: number): void;
}

const CHANNEL = /^__keyspace@(\d+)__:(.*)$/s;

/**
 * Listens to keyspace notifications on its own connection, one PSUBSCRIBE per DB. After a
 * lost connection it subscribes again and asks for a resync, since pub/sub keeps no backlog.
 */
export class KeyspaceSubscriber {
  private readonly conn: Redis;
  private readonly dbs = new Set<number>();
  private lost = false;
  /** Notifications received for subscribed DBs, by event (metrics). */
  readonly events = { sadd: 0, set: 0, del: 0, other: 0 };

  constructor(
    spec: RedisSpec,
    settings: ConnectionSettings,
    private readonly handler: KeyspaceHandler,
  ) {
    // Subscriptions must not time out: commandTimeout applies to PSUBSCRIBE replies only.
    this.conn = new Redis({ ...redisOptions(spec, 0, settings), autoResubscribe: true });
    this.conn.on('error', (err: Error) => log.debug({ err: err.message }, 'subscriber connection error'));
    this.conn.on('close', () => {
      if (!this.lost) log.warn('Lost the keyspace subscription connection; will resubscribe and resync');
      this.lost = true;
    });
    this.conn.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      log.info({ keyspaces: [...this.dbs] }, 'Keyspace subscription re-established; resyncing');
      // Explicitly: autoResubscribe knows nothing of DBs whose first PSUBSCRIBE never went out.
      this.subscribeAll()
        .then(() => {
          for (const db of this.dbs) this.handler.resync(db);
        })
        .catch((e: Error) => log.warn({ err: e.message }, 'resubscribe failed; retrying on the next connect'));
    });
    this.conn.on('pmessage', (_pattern: string, channel: string, event: string) => this.onEvent(channel, event));
  }

  /** The DBs are remembered first, so that a failed first connect still subscribes them later. */
  async start(dbs: number[]): Promise<void> {
    for (const db of dbs) this.dbs.add(db);
    await this.conn.connect();
    await this.subscribeAll();
    for (const db of dbs) log.info({ db }, 'subscribed to keyspace');
  }

  private async subscribeAll(): Promise<void> {
    if (this.dbs.size > 0) await this.conn.psubscribe(...[...this.dbs].map((db) => `__keyspace@${db}__:*`));
  }

  list(): number[] {
    return [...this.dbs].sort((a, b) => a - b);
  }

  has(db: number): boolean {
    return this.dbs.has(db);
  }

  /**
   * Subscribes to `db`; false when it already is. Recorded only once Redis confirmed it, so
   * a subscription that failed (Redis away) is not taken for one and can simply be retried.
   */
  async add(db: number): Promise<boolean> {
    if (this.dbs.has(db)) return false;
    await this.conn.psubscribe(`__keyspace@${db}__:*`);
    if (this.dbs.has(db)) return false;
    this.dbs.add(db);
    log.info({ db }, 'subscribed to keyspace');
    return true;
  }

  async remove(db: number): Promise<boolean> {
    if (!this.dbs.delete(db)) return false;
    await this.conn.punsubscribe(`__keyspace@${db}__:*`).catch(() => undefined);
    log.info({ db }, 'unsubscribed from keyspace');
    return true;
  }

  private onEvent(channel: string, event: string): void {
    const m = CHANNEL.exec(channel);
    if (!m) return;
    const db = Number(m[1]);
    const key = m[2]!;
    if (!this.dbs.has(db)) return;
    if (event === 'sadd' || event === 'set' || event === 'del') this.events[event]++;
    else this.events.other++;
    if (event === 'sadd' || event === 'set') this.handler.written(db, key);
    else if (event === 'del') this.handler.deleted(db, key);
    // 'expire' follows each write; 'expired' is ignored like rtpengine: only final-timeout,
    // a DEL or the operator ends a foreign call.
  }

  async close(): Promise<void> {
    await this.conn.quit().catch(() => this.conn.disconnect());
  }
}
