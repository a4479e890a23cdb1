import type { Call } from '../call/Call.js';
import type { CallRegistry } from '../call/CallRegistry.js';
import type { ClusterControl } from './ClusterControl.js';
import { describeRedis, type RedisSpec } from '../config/RedisSpec.js';
import { moduleLogger } from '../log.js';
import type { Config } from '../config/Config.js';
import type { LegObserver } from '../media/MediaPlane.js';
import type { CallHooks, Limits, Services } from '../Services.js';
import { ClusterSync } from './ClusterSync.js';
import { KeyspaceSubscriber } from './KeyspaceSubscriber.js';
import { RedisConnections, type ConnectionSettings } from './RedisConnections.js';
import { RedisStore } from './RedisStore.js';
import type { Redis } from 'ioredis';

const log = moduleLogger('redis');

/** What the store has counted so far, read when metrics are scraped. */
export interface StoreFigures {
  /** Calls whose write or delete waits to go out. */
  writeQueue: number;
  writeFailures: number;
  connected: boolean;
  keyspaceEvents: Readonly<Record<'sadd' | 'set' | 'del' | 'other', number>>;
  takeovers: number;
  yields: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid password|\bAUTH\b/i;

/** Waits about 10 s for the server to answer with the role we need; the error says why not. */
async function waitForServer(conn: Redis, spec: RedisSpec, needMaster: boolean): Promise<void> {
  let last = 'no answer';
  let authFailure: string | null = null;
  // ioredis reports a refused AUTH only as an 'error' event; connect() just says "closed".
  const onError = (e: Error): void => {
    if (AUTH_FAILURE.test(e.message)) authFailure = e.message;
    else last = e.message;
  };
  conn.on('error', onError);
  try {
    for (let i = 0; i < 11; i++) {
      try {
        if (conn.status !== 'ready') await conn.connect();
        const info = await conn.info('replication');
        const role = /role:(\S+)/.exec(info)?.[1] ?? 'unknown';
        if (!needMaster || role === 'master' || role === 'active-replica') return;
        last = `role is '${role}', not master`;
      } catch (e) {
        const msg = (e as Error).message;
        if (AUTH_FAILURE.test(msg)) authFailure = msg;
        else if (!/already connect|Connection is closed|isn't writeable/i.test(msg)) last = msg;
      }
      if (authFailure !== null) throw new Error(`Redis authentication failed for ${describeRedis(spec)}: ${authFailure}`);
      await sleep(1000);
    }
  } finally {
    conn.off('error', onError);
  }
  throw new Error(`Cannot start up without running Redis at ${describeRedis(spec)}: ${last}`);
}

/** Tells the operator when the server will not deliver the keyspace events the subscriber needs. */
async function checkNotifications(conn: Redis): Promise<void> {
  try {
    const res = (await conn.config('GET', 'notify-keyspace-events')) as string[];
    const flags = res[1] ?? '';
    const has = (c: string): boolean => flags.includes(c) || (flags.includes('A') && 'g$lshzxe'.includes(c));
    if (!flags.includes('K') || !has('g') || !(has('s') || has('$'))) {
      log.warn(
        { 'notify-keyspace-events': flags },
        "Redis 'notify-keyspace-events' lacks what keyspace subscriptions need (K with g and s, e.g. 'Kgs$' or 'KEA'); foreign calls will not be created",
      );
    }
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'cannot read notify-keyspace-events; make sure it includes K, g and s');
  }
}

/**
 * The static-mode Redis store: built before the services (it provides some of their call hooks),
 * then started with them (subscriptions, restore). The composition root calls, in order,
 * `connect`, builds the services with `hooks`, then `start`.
 */
export class RedisRuntime implements Pick<CallHooks, 'flushed' | 'takeOver' | 'legObserver'> {
  private sync: ClusterSync | null = null;
  private subscriber: KeyspaceSubscriber | null = null;

  private constructor(
    private readonly c: Config,
    private readonly registry: CallRegistry,
    private readonly limits: Limits,
    private readonly readers: RedisConnections,
    private readonly writers: RedisConnections,
    private readonly store: RedisStore,
    private readonly settings: ConnectionSettings,
    private readonly reachable: boolean,
  ) {}

  /** Connects (waiting about 10 s for the server, as rtpengine does) and starts writing own calls. */
  static async connect(c: Config, registry: CallRegistry, limits: Limits): Promise<RedisRuntime> {
    const readSpec = c.redis!;
    const writeSpec = c.redisWrite ?? readSpec;
    const settings: ConnectionSettings = {
      connectTimeout: c.redisConnectTimeout,
      commandTimeout: c.redisCmdTimeout > 0 ? c.redisCmdTimeout : 2000,
    };
    const onError = (db: number, err: Error): void => log.debug({ db, err: err.message }, 'Redis connection error');
    const readers = new RedisConnections(readSpec, settings, onError);
    const writers = c.redisWrite ? new RedisConnections(writeSpec, settings, onError) : readers;
    const ownDb = writeSpec.db;
    let reachable = true;
    try {
      await waitForServer(readers.get(readSpec.db), readSpec, !c.redisWrite);
      if (c.redisWrite) await waitForServer(writers.get(ownDb), writeSpec, false);
    } catch (e) {
      if (!c.noRedisRequired || /authentication/.test((e as Error).message)) throw e;
      reachable = false;
      log.warn({ err: (e as Error).message }, 'Redis unreachable; starting without restore (no-redis-required)');
    }
    if (reachable) log.info({ read: describeRedis(readSpec), write: describeRedis(writeSpec), keyspaces: c.subscribeKeyspace }, 'Redis connected');
    const ownCalls = (): Call[] => registry.all().filter((call) => !call.foreign && !call.deleted);
    const store = new RedisStore(writers, ownDb, c.redisExpires, Math.min(settings.commandTimeout, 1000), ownCalls);
    registry.listen(store);
    return new RedisRuntime(c, registry, limits, readers, writers, store, settings, reachable);
  }

  flushed(call: Call): Promise<void> {
    return this.store.flushed(call);
  }

  takeOver(call: Call): void {
    if (this.c.activeSwitchover) this.sync?.takeOver(call);
  }

  legObserver(call: Call): LegObserver {
    return {
      endpointChanged: () => {
        if (!call.foreign) this.registry.changed(call);
      },
      srtpChanged: () => {
        if (!call.foreign) this.registry.changed(call);
      },
      activity: () => {
        if (call.foreign && this.c.activeSwitchover) this.sync?.takeOverOnMedia(call, this.limits.timeout * 1000);
      },
    };
  }

  /** Subscribes to the peers' keyspaces and restores own and foreign calls into `s`. */
  async start(s: Services): Promise<void> {
    const c = this.c;
    const readSpec = c.redis!;
    const sync = new ClusterSync(s, this.readers, this.store);
    this.sync = sync;
    // Always there, so that `ksadd` works even when no keyspace was configured.
    const subscriber = new KeyspaceSubscriber(readSpec, { ...this.settings, commandTimeout: 0 }, sync);
    sync.subscriber = subscriber;
    this.subscriber = subscriber;
    if (c.subscribeKeyspace.length > 0 && this.reachable) await checkNotifications(this.readers.get(readSpec.db));
    try {
      await subscriber.start(c.subscribeKeyspace);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'keyspace subscription not established yet; it resubscribes on connect');
    }
    if (this.reachable) {
      try {
        await sync.restoreAll(c.subscribeKeyspace);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'restore from Redis incomplete');
      }
    }
  }

  /** Once a second: binds of foreign calls that failed before are tried again. */
  sweep(): void {
    this.sync?.retryBinds();
  }

  /** The CLI's handle on keyspaces and ownership (after start). */
  get cluster(): ClusterControl {
    return this.sync!;
  }

  figures(): StoreFigures {
    return {
      writeQueue: this.store.pendingCount,
      writeFailures: this.store.writeFailures,
      connected: this.store.connected,
      keyspaceEvents: this.subscriber?.events ?? { sadd: 0, set: 0, del: 0, other: 0 },
      takeovers: this.sync?.takeovers ?? 0,
      yields: this.sync?.yields ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.subscriber?.close();
    await this.readers.close();
    if (this.writers !== this.readers) await this.writers.close();
  }
}
