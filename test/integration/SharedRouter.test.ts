import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CallRegistry } from '../../src/call/CallRegistry.js';
import { Drain } from '../../src/cluster/Drain.js';
import { Forwarder } from '../../src/cluster/Forwarder.js';
import { HopSeal } from '../../src/cluster/HopSeal.js';
import { NodeDirectory } from '../../src/cluster/NodeDirectory.js';
import { OwnedCalls } from '../../src/cluster/OwnedCalls.js';
import { SharedRouter } from '../../src/cluster/SharedRouter.js';
import { NgRequest, type NgDict } from '../../src/ng/NgRequest.js';
import { SharedKeyspace } from '../../src/store/SharedKeyspace.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor } from '../helpers/Relay.js';

// The router of one node, in process, on a real redis-server: what it does to calls it holds.

let redis: RedisServer;
let conn: Redis;
let forwarder: Forwarder;

beforeAll(async () => {
  redis = await RedisServer.start();
  conn = new Redis({ port: redis.port, host: '127.0.0.1' });
  forwarder = new Forwarder(false, 100);
});

afterAll(async () => {
  forwarder?.close();
  conn?.disconnect();
  await redis?.stop();
});

describe('SharedRouter', () => {
  it('a stale local call under a dead node\'s call-id ends on the call\'s own queue, after the change in progress, when an offer takes the call over', async () => {
    const ks = new SharedKeyspace(conn, 60);
    const registry = new CallRegistry();
    const owned = new OwnedCalls();
    const directory = new NodeDirectory(ks, 'node-me', () => ({ ng: '127.0.0.1:1', media: [], capacity: -1, calls: 0, state: 'active', version: 'test' }), 1000, 60_000);
    const drain = new Drain(() => 0, 0, () => undefined, () => undefined);
    // The owner the store names is dead: it holds no lease.
    await conn.hset('ngrelay:call:stale-1', 'owner', 'node-dead', 'gen', 1);
    const stale = registry.create('stale-1', false);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A change in progress on the call (a timer, a learned endpoint): it must find the call whole.
    const inProgress = stale.serialize(async () => {
      await gate;
      return stale.destroyed;
    });
    const local = async (req: NgRequest): Promise<NgDict> => {
      registry.create(req.callId!, false);
      return { result: 'ok' };
    };
    const router = new SharedRouter('node-me', ks, registry, owned, directory, forwarder, new HopSeal(Buffer.alloc(32, 1)), drain, () => false, local);
    const offer = new NgRequest({ command: 'offer', 'call-id': 'stale-1', 'from-tag': 'ft', sdp: 'v=0\r\n' }, '127.0.0.1:5060', { cookie: 'c1', encoding: 'bencode' });
    const routed = router.handle(offer);
    // The takeover is decided (counted, then the stale call is ended) while the change is still running.
    await waitFor('takeover decided', () => router.counters.takenOverFromDead === 1, 5000, 1);
    release();
    expect(await inProgress).toBe(false);
    expect(await routed).toEqual({ result: 'ok' });
    expect(stale.destroyed).toBe(true);
    expect(registry.get('stale-1')).not.toBe(stale);
    expect(owned.gen('stale-1')).toBe(2);
    expect(await conn.hmget('ngrelay:call:stale-1', 'owner', 'gen')).toEqual(['node-me', '2']);
  });
});
