import { Redis } from 'ioredis';
import { describeRedis, type RedisSpec } from '../config/RedisSpec.js';
import { moduleLogger } from '../log.js';

const log = moduleLogger('balancer');
const TTL_S = 86_400;
const TIMEOUT_MS = 500;

/**
 * The call map in Redis, for two balancers side by side: `ngbal:<cluster>:<call-id>` holds the
 * member's name. A new call is claimed with SET NX, so of two balancers placing the same call
 * at once one wins and the other follows it. Redis being away never stops calls: the local map
 * carries on and the failure is logged.
 */
export class SharedCallMap {
  private readonly redis: Redis;

  constructor(spec: RedisSpec) {
    this.redis = new Redis({
      host: spec.host,
      port: spec.port,
      db: spec.db,
      password: spec.password,
      connectTimeout: 1000,
      commandTimeout: TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    this.redis.on('error', (err: Error) => log.warn({ redis: describeRedis(spec), err: err.message }, 'Redis error (call map)'));
  }

  private key(cluster: string, callId: string): string {
    return `ngbal:${cluster}:${callId}`;
  }

  /** Claims the call for `member`; returns the member that holds it (ours, or the one another balancer chose). */
  async claim(cluster: string, callId: string, member: string): Promise<string> {
    try {
      const k = this.key(cluster, callId);
      const set = await this.redis.set(k, member, 'EX', TTL_S, 'NX');
      if (set === 'OK') return member;
      return (await this.redis.get(k)) ?? member;
    } catch (e) {
      log.warn({ err: (e as Error).message, callId }, 'call map claim failed; placing locally');
      return member;
    }
  }

  async get(cluster: string, callId: string): Promise<string | null> {
    try {
      return await this.redis.get(this.key(cluster, callId));
    } catch {
      return null;
    }
  }

  set(cluster: string, callId: string, member: string): void {
    this.redis.set(this.key(cluster, callId), member, 'EX', TTL_S).catch((e: Error) => log.warn({ err: e.message, callId }, 'call map write failed'));
  }

  del(cluster: string, callId: string): void {
    this.redis.del(this.key(cluster, callId)).catch((e: Error) => log.warn({ err: e.message, callId }, 'call map delete failed'));
  }

  /** Every call of a cluster, for start-up (SCAN, bounded batches). */
  async load(cluster: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const prefix = `ngbal:${cluster}:`;
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length === 0) continue;
        const values = await this.redis.mget(...keys);
        keys.forEach((k, i) => {
          const v = values[i];
          if (v) out.set(k.slice(prefix.length), v);
        });
      } while (cursor !== '0');
    } catch (e) {
      log.warn({ err: (e as Error).message, cluster }, 'call map could not be read from Redis');
    }
    return out;
  }

  close(): void {
    this.redis.disconnect();
  }
}
