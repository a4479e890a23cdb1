import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, numSessions, TestCall, waitSessions, withOwnerAndStandby } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
import { PcmaDecoder, PcmaEncoder } from '../../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';
import { hear, sdp, type Side } from '../helpers/tones.js';

type Dict = Record<string, unknown>;

async function record(db: Redis, key: string): Promise<Dict | null> {
  const [text] = await db.smembers(key);
  return text === undefined ? null : (JSON.parse(text) as Dict);
}

/**
 * Two relays standing by for each other: relay 1 writes DB 1 and subscribes to DB 2, relay 2
 * the other way round. Each has the other's interface name on an address of its own, so both
 * hold sockets for every call. active-switchover is on (the default).
 */
describe('taking a call over (active-switchover, CLI active / standby)', () => {
  let redis: RedisServer;
  let r1: Relay;
  let r2: Relay;
  let db1: Redis;
  let db2: Redis;
  const calls: TestCall[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    r1 = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1;pub2/127.0.0.4'], subscribe: [2] });
    r2 = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1] });
    db1 = redis.client(1);
    db2 = redis.client(2);
  });

  afterAll(async () => {
    for (const c of calls) c.close();
    await r1?.stop();
    await r2?.stop();
    await redis?.stop();
  });

  async function placeOnR1(id: string): Promise<TestCall> {
    const c = await TestCall.place(r1, id);
    calls.push(c);
    // The answer's record has arrived when the callee's tag is there.
    await waitFor(`${id} answered on relay 2`, async () => {
      const text = await r2.cli(`list sessions ${id}`);
      return text.includes('\nforeign: yes') && text.includes(`--- Tag '${id}-B'`);
    });
    return c;
  }

  /** Relay 2 owns the call: its record in DB 2 with a higher generation, none in DB 1, relay 1 standing by. */
  async function expectOwnedByR2(id: string, generation: number): Promise<void> {
    await waitFor(`relay 2's record of ${id}`, async () => (await record(db2, id))?.['generation'] === generation);
    expect(await record(db2, id)).toMatchObject({ owner: 'relay2', generation, db: 2 });
    await waitFor(`relay 1's record of ${id} to go`, async () => (await db1.exists(id)) === 0);
    expect(await r2.cli(`list sessions ${id}`)).toContain('\nforeign: no\n');
    await waitFor(`relay 1 to stand by for ${id}`, async () => (await r1.cli(`list sessions ${id}`)).includes('\nforeign: yes'));
    expect(await r1.cli(`list sessions ${id}`)).toContain('\nredis_keyspace: 2\n');
  }

  it('an offer on the standby makes the call its own', async () => {
    const c = await placeOnR1('to-offer');
    expect(await record(db1, 'to-offer')).toMatchObject({ owner: 'relay1', generation: 0 });
    const reply = await r2.ng.ok({ command: 'offer', 'call-id': 'to-offer', 'from-tag': 'to-offer-A', 'to-tag': 'to-offer-B', sdp: audioSdp('127.0.0.1', c.caller.port) });
    expect(reply['sdp']).toContain(`m=audio ${c.calleeSendsTo.port} `);
    await expectOwnedByR2('to-offer', 1);
  });

  it('an answer on the standby makes the call its own', async () => {
    const c = await placeOnR1('to-answer');
    await r2.ng.ok({ command: 'answer', 'call-id': 'to-answer', 'from-tag': 'to-answer-A', 'to-tag': 'to-answer-B', sdp: audioSdp('127.0.0.1', c.callee.port) });
    await expectOwnedByR2('to-answer', 1);
  });

  it('media reaching the standby makes the call its own', async () => {
    const c = await placeOnR1('to-media');
    c.caller.send(rtpPacket(1, 5), c.callerSendsTo.port, '127.0.0.3');
    await expectOwnedByR2('to-media', 1);
    await c.callee.waitFor(1);
  });

  it('a converted call (PCMU to a PCMA-only phone) is converted both ways by the standby that takes it over', async () => {
    const [caller, callee] = await Promise.all([RtpEndpoint.open(), RtpEndpoint.open()]);
    try {
      const common = { 'call-id': 'to-transcode', 'from-tag': 'to-transcode-A' };
      const o = await r1.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port, [[0, 'PCMU/8000'], [101, 'telephone-event/8000']]), codec: { transcode: ['PCMA'] } });
      const a = await r1.ng.ok({ ...common, command: 'answer', 'to-tag': 'to-transcode-B', sdp: sdp(callee.port, [[8, 'PCMA/8000'], [101, 'telephone-event/8000']]) });
      await waitFor('the converted call on relay 2', async () => (await r2.cli('list sessions to-transcode')).includes("--- Tag 'to-transcode-B'"));
      // Both phones send to relay 2's addresses for pub1; the first packet makes the call its own.
      const a1: Side = { ep: caller, relayPort: readSdp(a['sdp'] as string).medias[0]!.port, relayHost: '127.0.0.3', pt: 0, enc: new PcmuEncoder(), dec: new PcmuDecoder(), clock: 8000 };
      const b1: Side = { ep: callee, relayPort: readSdp(o['sdp'] as string).medias[0]!.port, relayHost: '127.0.0.3', pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
      expect((await hear(a1, b1, 440, 31, 30, true)).packets).toBe(50);
      expect((await hear(b1, a1, 1000, 32, 30, true)).packets).toBe(50);
      await expectOwnedByR2('to-transcode', 1);
      expect(await r2.cli('list numsessions')).toContain('Current transcoded media: 2\n');
    } finally {
      caller.close();
      callee.close();
    }
  });

  it('a delete on the standby ends the call everywhere', async () => {
    await placeOnR1('to-delete');
    await r2.ng.ok({ command: 'delete', 'call-id': 'to-delete', 'from-tag': 'to-delete-A' });
    expect(await r2.cli('list sessions to-delete')).toBe('\nCall ID not found (to-delete).\n\n');
    await waitFor('relay 1 to drop to-delete', async () => (await r1.cli('list sessions to-delete')).includes('Call ID not found'));
    expect(await db1.exists('to-delete')).toBe(0);
    expect(await db2.exists('to-delete')).toBe(0);
  });

  it("CLI 'active' and 'standby' move every call, with rtpengine's texts", async () => {
    for (const c of calls) c.close();
    calls.length = 0;
    expect(await r1.cli('terminate all')).toBe('All calls terminated by operator.\n');
    expect(await r2.cli('terminate all')).toBe('All calls terminated by operator.\n');
    await placeOnR1('cli-1');
    await placeOnR1('cli-2');
    await waitSessions(r2, { own: 0, foreign: 2 });

    expect(await r2.cli('active')).toBe("Ok, all calls set to 'owned (active)'\n");
    await waitSessions(r2, { own: 2, foreign: 0 });
    await waitSessions(r1, { own: 0, foreign: 2 });
    for (const id of ['cli-1', 'cli-2']) await expectOwnedByR2(id, 1);

    // The way back: relay 2 stands by, relay 1 becomes active and owns them with generation 2.
    expect(await r2.cli('standby')).toBe("Ok, all calls set to 'foreign (standby)'\n");
    await waitSessions(r2, { own: 0, foreign: 2 });
    expect(await r1.cli('active')).toBe("Ok, all calls set to 'owned (active)'\n");
    await waitSessions(r1, { own: 2, foreign: 0 });
    for (const id of ['cli-1', 'cli-2']) {
      await waitFor(`relay 1's record of ${id}`, async () => (await record(db1, id))?.['generation'] === 2);
      expect(await record(db1, id)).toMatchObject({ owner: 'relay1', db: 1 });
      await waitFor(`relay 2's record of ${id} to go`, async () => (await db2.exists(id)) === 0);
    }
    await waitSessions(r2, { own: 0, foreign: 2 });
    expect(await r2.cli('list sessions foreign')).toMatch(/cli-1 \| .*redis_keyspace:1 \| foreign:yes/);
  });
});

describe('a delete for a foreign call without active-switchover', () => {
  it("ends the copy after the delete-delay and leaves the owner's record", async () => {
    await withOwnerAndStandby(['--active-switchover=false', '--delete-delay=1'], async (redis, owner, standby) => {
      const call = await TestCall.place(owner, 'nsw-delete');
      try {
        await waitSessions(standby, { own: 0, foreign: 1 });
        // The copy must have the answer too: a delete of a half-synced copy (offer only) is another case.
        await waitFor('the answer on the standby', async () => 'nsw-delete-B' in ((await standby.ng.ok({ command: 'query', 'call-id': 'nsw-delete' }))['tags'] as object));
        await standby.ng.ok({ command: 'delete', 'call-id': 'nsw-delete', 'from-tag': 'nsw-delete-A' });
        expect(await standby.cli('list sessions foreign')).toMatch(/nsw-delete \| deletionmark: yes/);
        await waitSessions(standby, { own: 0, foreign: 0 }, 5000);
        expect(await redis.client(1).exists('nsw-delete')).toBe(1);
        await waitSessions(owner, { own: 1, foreign: 0 });
      } finally {
        call.close();
      }
    });
  });
});

describe('two standbys taking one call over at once', () => {
  it('leaves exactly one owner: the same generation goes to the node id that sorts first', async () => {
    const redis = await RedisServer.start();
    const relays: Relay[] = [];
    let c: TestCall | undefined;
    try {
      // Each relay carries its own calls on its first interface and binds its peers' names on addresses of its own.
      relays.push(await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1;pub2/127.0.0.11;pub3/127.0.0.12'], subscribe: [2, 3] }));
      relays.push(await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.21;pub3/127.0.0.22'], subscribe: [1, 3] }));
      relays.push(await clusterRelay(redis, 3, { interfaces: ['pub3/127.0.0.3;pub1/127.0.0.31;pub2/127.0.0.32'], subscribe: [1, 2] }));
      const [r1, r2, r3] = relays as [Relay, Relay, Relay];
      c = await TestCall.place(r1, 'twice');
      for (const r of [r2, r3]) {
        await waitFor('the answered call on both standbys', async () => (await r.cli('list sessions twice')).includes("--- Tag 'twice-B'"));
      }
      // The two takeovers cross: neither standby sees the other's record before taking the call.
      expect(await r2.cli('ksrm 3')).toContain('Successfully unsubscribed from keyspace 3');
      expect(await r3.cli('ksrm 2')).toContain('Successfully unsubscribed from keyspace 2');
      const reinvite = { command: 'offer', 'call-id': 'twice', 'from-tag': 'twice-A', 'to-tag': 'twice-B', sdp: audioSdp('127.0.0.1', c.caller.port) };
      await Promise.all([r2.ng.ok(reinvite), r3.ng.ok(reinvite)]);
      await waitFor("relay 2's and relay 3's records", async () => (await record(redis.client(2), 'twice')) !== null && (await record(redis.client(3), 'twice')) !== null);
      expect(await record(redis.client(2), 'twice')).toMatchObject({ owner: 'relay2', generation: 1 });
      expect(await record(redis.client(3), 'twice')).toMatchObject({ owner: 'relay3', generation: 1 });
      // Now each sees the other's claim.
      expect(await r2.cli('ksadd 3')).toContain('Success adding keyspace 3');
      expect(await r3.cli('ksadd 2')).toContain('Success adding keyspace 2');

      await waitSessions(r2, { own: 1, foreign: 0 });
      await waitSessions(r3, { own: 0, foreign: 1 });
      await waitSessions(r1, { own: 0, foreign: 1 });
      await waitFor("relay 3's record to go", async () => (await redis.client(3).exists('twice')) === 0);
      expect(await record(redis.client(2), 'twice')).toMatchObject({ owner: 'relay2', generation: 1, db: 2 });
      expect(await redis.client(1).exists('twice')).toBe(0);
      for (const r of [r1, r3]) await waitFor('standing by for relay 2', async () => (await r.cli('list sessions twice')).includes('\nredis_keyspace: 2\n'));
      // And it stays that way: relay 2's later writes are its own claim's updates.
      await r2.ng.ok(reinvite);
      await waitSessions(r3, { own: 0, foreign: 1 });
      expect(await numSessions(r2)).toMatchObject({ own: 1, foreign: 0 });
    } finally {
      c?.close();
      for (const r of relays) await r.stop();
      await redis.stop();
    }
  });
});
