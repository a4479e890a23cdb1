import { createHash } from 'node:crypto';
import type { SharedConnection } from './StoreEngine.js';

/**
 * The layout and the atomic operations of `cluster-mode = shared` (docs/scale-out.md):
 *
 * - `ngrelay:call:<call-id>`   HASH `owner`, `gen`, `rec` (the call's JSON record), `at`.
 *                              One key per call: every ownership decision is one Lua script on
 *                              one key, so it is atomic on one server and on Redis Cluster alike.
 * - `ngrelay:owned:<node-id>`  SET of the call-ids a node claimed (for reaping a dead node).
 * - `ngrelay:lease:<node-id>`  STRING, the live instance's random token, with a TTL: the node's
 *                              identity and liveness. SET NX refuses a second node with the id.
 * - `ngrelay:reaping:<node-id>` STRING, held (with a TTL) by the one node that removes a dead
 *                              node's records.
 * - `ngrelay:nodes`            HASH node-id → heartbeat JSON (addresses, load, state).
 * - `ngrelay:secret`           STRING, set once by the first node: the key that proves a
 *                              forwarded NG command comes from a node (cluster/HopSeal).
 *
 * Nothing depends on keyspace notifications (Redis Cluster delivers them per shard only).
 */
export const KEY = {
  call: (callId: string): string => `ngrelay:call:${callId}`,
  owned: (nodeId: string): string => `ngrelay:owned:${nodeId}`,
  lease: (nodeId: string): string => `ngrelay:lease:${nodeId}`,
  reaping: (nodeId: string): string => `ngrelay:reaping:${nodeId}`,
  nodes: 'ngrelay:nodes',
  secret: 'ngrelay:secret',
} as const;

/** Who owns a call and with which generation; `won` when this request made the change. */
export interface Ownership {
  won: boolean;
  owner: string;
  gen: number;
}

// Claim: the first node to ask owns the call (generation 1). A taker names the owner and
// generation it saw dead: only that exact state changes hands (compare-and-set).
const CLAIM = `
local o = redis.call('HMGET', KEYS[1], 'owner', 'gen')
if not o[1] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'gen', 1, 'at', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {1, ARGV[1], 1}
end
if ARGV[4] ~= '' and o[1] == ARGV[4] and tonumber(o[2]) == tonumber(ARGV[5]) then
  local g = tonumber(o[2]) + 1
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'gen', g, 'at', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {1, ARGV[1], g}
end
return {0, o[1], tonumber(o[2])}
`;

// The owner's write: only while it still owns that generation. A key lost with a Redis
// failover (asynchronous replication) is written again with the same owner and generation.
const WRITE = `
local o = redis.call('HMGET', KEYS[1], 'owner', 'gen')
if (not o[1]) or (o[1] == ARGV[1] and tonumber(o[2]) == tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'gen', ARGV[2], 'rec', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 1
end
return 0
`;

// Removes the call only if the named owner still has it (gen '' = any generation).
const RELEASE = `
local o = redis.call('HMGET', KEYS[1], 'owner', 'gen')
if o[1] == ARGV[1] and (ARGV[2] == '' or tonumber(o[2]) == tonumber(ARGV[2])) then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

// The lease: taken if free or ours, refreshed with the TTL; someone else's is left alone.
const LEASE = `
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

const UNLEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A Lua script run by its SHA1, sent in full only when the server does not know it yet (first
 * use, a restarted or failed-over server). ioredis's own script commands send the full text
 * whenever they ride in an auto-pipelined batch; this one sends the hash.
 */
class LuaScript {
  private readonly sha: string;
  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(conn: SharedConnection, key: string, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await conn.evalsha(this.sha, 1, key, ...args);
    } catch (e) {
      if (!(e as Error).message.includes('NOSCRIPT')) throw e;
      return conn.eval(this.lua, 1, key, ...args);
    }
  }
}

const SCRIPT = {
  claim: new LuaScript(CLAIM),
  write: new LuaScript(WRITE),
  release: new LuaScript(RELEASE),
  lease: new LuaScript(LEASE),
  unlease: new LuaScript(UNLEASE),
};

/** The shared keyspace's operations, each one round trip (a script or a single command). */
export class SharedKeyspace {
  constructor(
    readonly conn: SharedConnection,
    /** TTL in seconds of call keys (`redis-expires`): a backstop, not the way calls end. */
    private readonly expires: number,
  ) {}

  private get ttl(): number {
    return this.expires > 0 ? this.expires : 86400;
  }

  /** Claims a new call, or takes it from `dead` (owner and generation seen dead). */
  async claim(callId: string, me: string, dead?: { owner: string; gen: number }): Promise<Ownership> {
    const [won, owner, gen] = (await SCRIPT.claim.run(this.conn, KEY.call(callId), me, Date.now(), this.ttl, dead?.owner ?? '', dead?.gen ?? 0)) as [number, string, number];
    if (won === 1) void this.conn.sadd(KEY.owned(me), callId).catch(() => undefined);
    return { won: won === 1, owner, gen: Number(gen) };
  }

  /** Owner and generation of a call, or null when nobody has it. */
  async owner(callId: string): Promise<{ owner: string; gen: number } | null> {
    const [owner, gen] = await this.conn.hmget(KEY.call(callId), 'owner', 'gen');
    return owner ? { owner, gen: Number(gen) } : null;
  }

  /** The call's record text, if its owner wrote one. */
  record(callId: string): Promise<string | null> {
    return this.conn.hget(KEY.call(callId), 'rec');
  }

  /** Writes the owner's record; false when the call has another owner now. */
  async write(callId: string, me: string, gen: number, rec: string): Promise<boolean> {
    return (await SCRIPT.write.run(this.conn, KEY.call(callId), me, gen, rec, this.ttl)) === 1;
  }

  /** Removes the call if `owner` (with `gen`, or any generation) still has it. */
  async release(callId: string, owner: string, gen?: number): Promise<boolean> {
    // Both in one tick: one write to the server (auto-pipelining), one round trip.
    const [done] = await Promise.all([SCRIPT.release.run(this.conn, KEY.call(callId), owner, gen ?? ''), this.conn.srem(KEY.owned(owner), callId).catch(() => undefined)]);
    return done === 1;
  }

  /** The call-ids a node claimed (possibly ended since: release checks the owner). */
  ownedBy(nodeId: string): Promise<string[]> {
    return this.conn.smembers(KEY.owned(nodeId));
  }

  async forgetOwned(nodeId: string): Promise<void> {
    await this.conn.del(KEY.owned(nodeId));
  }

  async takeLease(nodeId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await SCRIPT.lease.run(this.conn, KEY.lease(nodeId), token, ttlMs)) === 1;
  }

  async dropLease(nodeId: string, token: string): Promise<void> {
    await SCRIPT.unlease.run(this.conn, KEY.lease(nodeId), token);
  }

  /** True for the one node that may reap `nodeId` now (held for `ttlMs`). */
  async reapLock(nodeId: string, me: string, ttlMs: number): Promise<boolean> {
    return (await this.conn.set(KEY.reaping(nodeId), me, 'PX', Math.max(1000, ttlMs), 'NX')) === 'OK';
  }

  async alive(nodeId: string): Promise<boolean> {
    return (await this.conn.exists(KEY.lease(nodeId))) === 1;
  }

  async announce(nodeId: string, heartbeat: string): Promise<void> {
    await this.conn.hset(KEY.nodes, nodeId, heartbeat);
  }

  async nodes(): Promise<Map<string, string>> {
    // ioredis defines each field as an own property (a `__proto__` field stays data); the
    // node-ids go on into a Map, never used to index an object.
    return new Map(Object.entries(await this.conn.hgetall(KEY.nodes)));
  }

  /** One node's heartbeat text, or null. */
  node(nodeId: string): Promise<string | null> {
    return this.conn.hget(KEY.nodes, nodeId);
  }

  /** The cluster's secret: the one already there, or `fresh` when this node is the first. */
  async secret(fresh: string): Promise<string> {
    await this.conn.set(KEY.secret, fresh, 'NX');
    const s = await this.conn.get(KEY.secret);
    if (s === null) throw new Error('the cluster secret vanished from the store');
    return s;
  }

  async removeNode(nodeId: string): Promise<void> {
    await this.conn.hdel(KEY.nodes, nodeId);
  }
}
