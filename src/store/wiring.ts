import type { Lifecycle } from '../call/Lifecycle.js';
import type { ClusterControl } from '../cli/ClusterControl.js';
import { describeRedis, type RedisSpec } from '../config/RedisSpec.js';
import { moduleLogger } from '../log.js';
import type { Services } from '../Services.js';
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

export interface RedisRuntime {
  cluster: ClusterControl;
  figures(): StoreFigures;
  close(): Promise<void>;
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

/** Connects the store, the subscriber and the restore, and hooks them into the services. */
export async function startRedis(s: Services, lifecycle: Lifecycle): Promise<RedisRuntime> {
  const c = s.config;
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

  const store = new RedisStore(writers, ownDb, c.redisExpires, Math.min(settings.commandTimeout, 1000));
  store.allOwnCalls = () => s.registry.all().filter((call) => !call.foreign && !call.deleted);
  s.registry.listen(store);
  const sync = new ClusterSync(s, readers, store);

  s.hooks.flushed = (call) => store.flushed(call);
  s.hooks.takeOver = (call) => {
    if (c.activeSwitchover) sync.takeOver(call);
  };
  s.hooks.legObserver = (call) => ({
    endpointChanged: () => {
      if (!call.foreign) s.registry.changed(call);
    },
    activity: () => {
      if (call.foreign && c.activeSwitchover) {
        call.graceUntil = Date.now() + s.limits.timeout * 1000;
        sync.takeOver(call);
      }
    },
  });
  lifecycle.onSweep.push(() => sync.retryBinds());

  // Always there, so that `ksadd` works even when no keyspace was configured.
  const subscriber = new KeyspaceSubscriber(readSpec, { ...settings, commandTimeout: 0 }, sync);
  sync.subscriber = subscriber;
  if (c.subscribeKeyspace.length > 0 && reachable) await checkNotifications(readers.get(readSpec.db));
  try {
    await subscriber.start(c.subscribeKeyspace);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'keyspace subscription not established yet; it resubscribes on connect');
  }
  if (reachable) {
    try {
      await sync.restoreAll(c.subscribeKeyspace);
    } catch (e) {
      log.error({ err: (e as Error).message }, 'restore from Redis incomplete');
    }
  }
  return {
    cluster: sync,
    figures: () => ({
      writeQueue: store.pendingCount,
      writeFailures: store.writeFailures,
      connected: store.connected,
      keyspaceEvents: subscriber.events,
      takeovers: sync.takeovers,
      yields: sync.yields,
    }),
    async close() {
      await subscriber.close();
      await readers.close();
      if (writers !== readers) await writers.close();
    },
  };
}
