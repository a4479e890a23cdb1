import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Call } from '../../src/call/Call.js';
import { RedisConnections } from '../../src/store/RedisConnections.js';
import { RedisStore } from '../../src/store/RedisStore.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor } from '../helpers/Relay.js';

// The order in which a takeover reaches Redis, as a third relay subscribed to both DBs sees it.
describe('RedisStore writing a takeover', () => {
  let redis: RedisServer;
  let conns: RedisConnections;
  beforeAll(async () => {
    redis = await RedisServer.start();
    conns = new RedisConnections({ host: '127.0.0.1', port: redis.port, db: 2 }, { connectTimeout: 1000, commandTimeout: 1000 }, () => undefined);
    await conns.ready(2);
  });
  afterAll(async () => {
    await conns.close();
    await redis.stop();
  });

  it('writes the new owner record before it deletes the old owner record, even when the call changes again meanwhile', async () => {
    const events: string[] = [];
    const sub = redis.client();
    sub.on('pmessage', (_p: string, channel: string, event: string) => events.push(`${/@(\d+)__/.exec(channel)![1]}:${event}`));
    await sub.psubscribe('__keyspace@1__:*', '__keyspace@2__:*');
    await redis.client(1).sadd('taken-over', '{"old owner record":true}');

    const store = new RedisStore(conns, 2, 60, 1000);
    const call = new Call('taken-over', Date.now());
    call.ownerId = 'relay2';
    call.generation = 2;
    // What a takeover does (write ours, remove theirs), then an endpoint learned in the same tick.
    store.changed(call);
    store.removeStale(call.callId, 1);
    store.changed(call);
    await store.flushed(call);
    await waitFor('the old record to be deleted', () => events.includes('1:del'), 3000);
    expect(events.indexOf('2:sadd')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('2:sadd')).toBeLessThan(events.indexOf('1:del'));
    expect(await redis.client(1).exists('taken-over')).toBe(0);
    expect(await redis.client(2).exists('taken-over')).toBe(1);
  });
});
