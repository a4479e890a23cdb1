import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSpec } from '../config/RedisSpec.js';

export interface ConnectionSettings {
  connectTimeout: number;
  commandTimeout: number;
}

/** ioredis options for one server and DB: fail fast while disconnected, reconnect forever. */
export function redisOptions(spec: RedisSpec, db: number, t: ConnectionSettings): RedisOptions {
  return {
    host: spec.host,
    port: spec.port,
    db,
    password: spec.password,
    connectTimeout: t.connectTimeout,
    // ioredis applies any number, even 0, as a timeout: 0 must mean none (subscriptions).
    commandTimeout: t.commandTimeout > 0 ? t.commandTimeout : undefined,
    // Queued commands would hold NG replies hostage; the store re-sends what failed itself.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: true,
    enableReadyCheck: true,
  };
}

/** One connection per DB number on a server, opened on first use. */
export class RedisConnections {
  private readonly byDb = new Map<number, Redis>();

  constructor(
    readonly spec: RedisSpec,
    private readonly settings: ConnectionSettings,
    private readonly onError: (db: number, err: Error) => void,
  ) {}

  get(db: number): Redis {
    let c = this.byDb.get(db);
    if (!c) {
      c = new Redis(redisOptions(this.spec, db, this.settings));
      c.on('error', (err: Error) => this.onError(db, err));
      c.connect().catch(() => undefined);
      this.byDb.set(db, c);
    }
    return c;
  }

  /** The connection of `db` once it is ready (commands fail fast before); rejects after the connect timeout. */
  async ready(db: number): Promise<Redis> {
    const c = this.get(db);
    if (c.status === 'ready') return c;
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        c.off('ready', onReady);
        reject(new Error(`Redis DB ${db} at ${this.spec.host}:${this.spec.port} is not connected`));
      }, this.settings.connectTimeout + 1000);
      c.once('ready', onReady);
    });
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byDb.values()].map((c) => c.quit().catch(() => c.disconnect())));
    this.byDb.clear();
  }
}

/** Reads one call record, whether the writer used SADD (ngrelay) or SET (rtpengine 5.2+). */
export async function readRecordText(conn: Redis, key: string): Promise<string | null> {
  const type = await conn.type(key);
  if (type === 'string') return conn.get(key);
  if (type === 'set') {
    const members = await conn.smembers(key);
    return members[0] ?? null;
  }
  return null;
}

/** Every key of a DB, with SCAN (never KEYS, which blocks the server). */
export async function scanKeys(conn: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await conn.scan(cursor, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Pipelined reads of many records: TYPE for all, then GET or SMEMBERS for each. */
export async function readRecords(conn: Redis, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < keys.length; i += 200) {
    const batch = keys.slice(i, i + 200);
    const types = (await conn.pipeline(batch.map((k) => ['type', k])).exec()) ?? [];
    const p = conn.pipeline();
    const asked: string[] = [];
    batch.forEach((k, j) => {
      const t = types[j]?.[1];
      if (t === 'string') p.get(k);
      else if (t === 'set') p.smembers(k);
      else return;
      asked.push(k);
    });
    const values = (await p.exec()) ?? [];
    asked.forEach((k, j) => {
      const [err, v] = values[j] ?? [null, null];
      if (err) return;
      const text = Array.isArray(v) ? (v[0] as string | undefined) : (v as string | null);
      if (typeof text === 'string') out.set(k, text);
    });
  }
  return out;
}
