import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, TestCall, waitSessions } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';

/** Keyspace subscriptions changed at run time with the CLI, as rtpengine-ctl sends them. */
describe('ksadd / ksrm / kslist', () => {
  let redis: RedisServer;
  let owner: Relay;
  let standby: Relay;
  const calls: TestCall[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    // Starts with no subscription at all: ksadd must still work.
    standby = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'] });
    for (const id of ['ks-1', 'ks-2']) calls.push(await TestCall.place(owner, id));
  });

  afterAll(async () => {
    for (const c of calls) c.close();
    await owner?.stop();
    await standby?.stop();
    await redis?.stop();
  });

  it('kslist prints the subscribed keyspaces', async () => {
    expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n\n');
  });

  it("ksadd subscribes and reads the DB's existing calls as foreign", async () => {
    expect(await standby.cli('ksadd 1')).toBe('Success adding keyspace 1 to redis notifications.\n');
    await waitSessions(standby, { own: 0, foreign: 2 });
    expect(await standby.cli('ksadd 1')).toBe('Keyspace 1 is already among redis notifications.\n');
    expect(await standby.cli('ksadd 3')).toBe('Success adding keyspace 3 to redis notifications.\n');
    expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n1 3 \n');
    // New calls arrive through the subscription.
    calls.push(await TestCall.place(owner, 'ks-3'));
    await waitSessions(standby, { own: 0, foreign: 3 });
  });

  it("ksrm unsubscribes, destroys that keyspace's foreign calls and leaves Redis alone", async () => {
    expect(await standby.cli('ksrm 1')).toBe('Successfully unsubscribed from keyspace 1.\nSuccessfully removed all foreign calls for keyspace 1.\n');
    await waitSessions(standby, { own: 0, foreign: 0 });
    expect(await redis.client(1).exists('ks-1', 'ks-2', 'ks-3')).toBe(3);
    await waitSessions(owner, { own: 3, foreign: 0 });
    expect(await standby.cli('ksrm 1')).toBe('Keyspace 1 is not among redis notifications.\n');
    expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n3 \n');
    // No longer subscribed: new calls of DB 1 do not appear.
    calls.push(await TestCall.place(owner, 'ks-4'));
    await waitSessions(owner, { own: 4, foreign: 0 });
    expect(await standby.cli('list sessions ks-4')).toBe('\nCall ID not found (ks-4).\n\n');
    // Subscribing again resyncs all four.
    expect(await standby.cli('ksadd 1')).toBe('Success adding keyspace 1 to redis notifications.\n');
    await waitSessions(standby, { own: 0, foreign: 4 });
  });

  it('does not record a subscription Redis refused: the retry subscribes', async () => {
    await redis.kill();
    const refused = await standby.cli('ksadd 4');
    expect(refused).toMatch(/^Fail adding keyspace 4 to redis notifications; .+\n$/);
    expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n1 3 \n');
    await redis.restart();
    let reply = refused;
    await waitFor('the subscriber back on Redis', async () => !(reply = await standby.cli('ksadd 4')).startsWith('Fail'), 10_000);
    expect(reply).toBe('Success adding keyspace 4 to redis notifications.\n');
    expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n1 3 4 \n');
  });

  it('rejects a missing or bad keyspace number', async () => {
    expect(await standby.cli('ksadd')).toBe('More parameters required.\n');
    expect(await standby.cli('ksrm')).toBe('More parameters required.\n');
  });
});
