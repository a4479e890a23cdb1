import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, numSessions, TestCall, waitSessions } from '../helpers/cluster.js';
import { BundledCall } from '../helpers/BundledCall.js';
import { RedisServer } from '../helpers/RedisServer.js';
import type { Relay } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp } from '../helpers/sdp.js';

type Dict = Record<string, unknown>;

/** The relay's local RTP ports of a call, from `query`. */
async function localPorts(relay: Relay, callId: string): Promise<number[]> {
  const q = await relay.ng.ok({ command: 'query', 'call-id': callId });
  return Object.values(q['tags'] as Dict).flatMap((t) =>
    ((t as Dict)['medias'] as Dict[]).flatMap((m) => (m['streams'] as Dict[]).map((s) => s['local port'] as number)),
  );
}

/** rs-1's caller sends audio, an RFC 4733 event, audio; its callee loud audio: the event is dropped, the callee heard silent. */
async function controlsHold(c: TestCall): Promise<void> {
  const toCallee = c.callee.received.length;
  const toCaller = c.caller.received.length;
  const loud = (seq: number, ssrc: number): Buffer => rtpPacket(seq, ssrc).fill(0x11, 12);
  const ev = rtpPacket(1001, 0xa, 101, 4);
  ev.set([1, 10, 0, 160], 12);
  for (const p of [loud(1000, 0xa), ev, loud(1002, 0xa)]) c.caller.send(p, c.callerSendsTo.port, c.callerSendsTo.address);
  for (let i = 0; i < 3; i++) c.callee.send(loud(2000 + i, 0xb), c.calleeSendsTo.port, c.calleeSendsTo.address);
  await c.callee.waitFor(toCallee + 2);
  await c.caller.waitFor(toCaller + 3);
  expect(c.callee.received.slice(toCallee).map((r) => [r.data.readUInt16BE(2), r.data[1]! & 0x7f, r.data[20]])).toEqual([[1000, 0, 0x11], [1002, 0, 0x11]]);
  for (const r of c.caller.received.slice(toCaller)) expect([...new Set(r.data.subarray(12))]).toEqual([0xff]);
}

describe('a relay restarted on its DB restores its own calls', () => {
  let redis: RedisServer;
  let relay: Relay;
  const calls: TestCall[] = [];
  let subscriber: RtpEndpoint;
  /** A BUNDLE call: which m= lines share the caller's port must survive, or the port stops demultiplexing. */
  let bundled: BundledCall;

  /** The subscriber of rs-2's caller gets a copy of what the caller sends. */
  async function subscriberHears(c: TestCall): Promise<void> {
    const before = subscriber.received.length;
    await c.mediaFlows();
    const got = await subscriber.waitFor(before + 3);
    expect(got.slice(before).every((p) => p.data.readUInt32BE(8) === 0x1111)).toBe(true);
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    for (const id of ['rs-1', 'rs-2']) {
      const c = await TestCall.place(relay, id);
      await c.mediaFlows();
      calls.push(c);
    }
    // A party's DTMF block (card payments) and another's silence must outlive a restart.
    await relay.ng.ok({ command: 'block DTMF', 'call-id': 'rs-1', 'from-tag': 'rs-1-A' });
    await relay.ng.ok({ command: 'silence media', 'call-id': 'rs-1', 'from-tag': 'rs-1-B' });
    // So must a subscription (a recording fork) of a caller.
    subscriber = await RtpEndpoint.open();
    await relay.ng.ok({ command: 'subscribe request', 'call-id': 'rs-2', 'from-tag': 'rs-2-A', 'to-tag': 'rs-2-S' });
    await relay.ng.ok({ command: 'subscribe answer', 'call-id': 'rs-2', 'to-tag': 'rs-2-S', sdp: audioSdp('127.0.0.1', subscriber.port, { direction: 'recvonly' }) });
    bundled = await BundledCall.place(relay, 'rs-bundle');
    await bundled.demultiplexes();
  });

  afterAll(async () => {
    for (const c of calls) c.close();
    subscriber?.close();
    bundled?.close();
    await relay?.stop();
    await redis?.stop();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}: same ports, media flows again`, async () => {
      const before = await Promise.all(calls.map((c) => localPorts(relay, c.callId)));
      await controlsHold(calls[0]!);
      await subscriberHears(calls[1]!);
      await relay.stop(signal);
      expect(await redis.client(1).exists('rs-1', 'rs-2', 'rs-bundle')).toBe(3);
      relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: relay.portMin, portMax: relay.portMax });
      expect(await numSessions(relay)).toEqual({ own: 3, foreign: 0, total: 3 });
      for (const [i, c] of calls.entries()) {
        expect(await localPorts(relay, c.callId)).toEqual(before[i]);
        await c.mediaFlows();
      }
      await bundled.demultiplexes();
      expect(await relay.cli('list sessions own')).toMatch(/rs-1 \| deletionmark:  no \| .*redis_keyspace:1 \| foreign:no/);
      await controlsHold(calls[0]!);
      await subscriberHears(calls[1]!);
      // Still the owner: a delete removes the record.
      if (signal === 'SIGKILL') {
        await relay.ng.ok({ command: 'delete', 'call-id': 'rs-2', 'from-tag': 'rs-2-A' });
        expect(await redis.client(1).exists('rs-2')).toBe(0);
        await waitSessions(relay, { own: 2, foreign: 0 });
      }
    });
  }

});

describe('a standby started after the calls exist', () => {
  it('restores them as foreign at start-up, before it answers', async () => {
    const redis = await RedisServer.start();
    const owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    const calls = [await TestCall.place(owner, 'late-1'), await TestCall.place(owner, 'late-2')];
    const standby = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1] });
    try {
      expect(await numSessions(standby)).toEqual({ own: 0, foreign: 2, total: 2 });
      for (const c of calls) expect(await localPorts(standby, c.callId)).toEqual(await localPorts(owner, c.callId));
      expect(await standby.cli('list sessions foreign')).toMatch(/late-1 \| .*redis_keyspace:1 \| foreign:yes/);
    } finally {
      for (const c of calls) c.close();
      await owner.stop();
      await standby.stop();
      await redis.stop();
    }
  });
});
