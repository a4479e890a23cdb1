import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, KeyspaceWatch, logLines, TestCall, waitSessions, withOwnerAndStandby } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { sleep, waitFor, type Relay } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp } from '../helpers/sdp.js';

type Dict = Record<string, unknown>;

/** The standby's view of one stream: `query` reply, party `tag`, media 0, stream `i`. */
function stream(q: Dict, tag: string, i: number): Dict {
  const party = (q['tags'] as Dict)[tag] as Dict;
  const media = (party['medias'] as Dict[])[0]!;
  return (media['streams'] as Dict[])[i]!;
}

/**
 * An owner writing DB 1 and a standby subscribed to it. The standby has the owner's interface
 * name on another address (pub1/127.0.0.3), so it binds the foreign call's ports while the
 * owner holds them; active-switchover is off so media on the copy does not take it over.
 */
describe('foreign calls follow the owner: create, update in place, delete', () => {
  let redis: RedisServer;
  let owner: Relay;
  let standby: Relay;
  let watch: KeyspaceWatch;
  let call: TestCall;

  beforeAll(async () => {
    redis = await RedisServer.start();
    watch = await KeyspaceWatch.open(redis, 1);
    owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    standby = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1], args: ['--active-switchover=false'] });
  });

  afterAll(async () => {
    call?.close();
    watch?.close();
    await owner?.stop();
    await standby?.stop();
    await redis?.stop();
  });

  it('the owner writes each update as MULTI DEL SADD EXPIRE; subscribers see DEL then SADD', async () => {
    const monitor = await redis.client(0).monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_t: string, args: string[]) => {
      if (args[0] !== 'info' && args[0] !== 'ping') commands.push(args.slice(0, 2).join(' ').toLowerCase());
    });
    call = await TestCall.place(owner, 'fc-1');
    await waitFor('the answer to be written', () => watch.of('fc-1').filter((e) => e === 'sadd').length >= 2);
    monitor.disconnect();
    // offer and answer: each a transaction of DEL, SADD, EXPIRE on the bare call-id.
    const writes = commands.filter((c) => /^(multi|exec|del|sadd|expire)/.test(c));
    expect(writes.slice(0, 10)).toEqual(['multi', 'del fc-1', 'sadd fc-1', 'expire fc-1', 'exec', 'multi', 'del fc-1', 'sadd fc-1', 'expire fc-1', 'exec']);
    // A DEL of a key that does not exist yet causes no event: the first write is sadd, expire.
    expect(watch.of('fc-1')).toEqual(['sadd', 'expire', 'del', 'sadd', 'expire']);
    const db1 = redis.client(1);
    expect(await db1.type('fc-1')).toBe('set');
    expect(await db1.scard('fc-1')).toBe(1);
    const ttl = await db1.ttl('fc-1');
    expect(ttl).toBeGreaterThan(86000);
  });

  it('the record holds what a standby needs', async () => {
    const [text] = await redis.client(1).smembers('fc-1');
    const rec = JSON.parse(text!) as Dict;
    expect(rec).toMatchObject({ version: 1, callId: 'fc-1', owner: 'relay1', generation: 0, db: 1 });
    const parties = rec['parties'] as Dict[];
    expect(parties.map((p) => p['tag'])).toEqual(['fc-1-A', 'fc-1-B']);
    expect(parties[0]).toMatchObject({ interface: 'pub1', peer: 'fc-1-B', pending: false });
    const media = (parties[0]!['medias'] as Dict[])[0]!;
    expect(media).toMatchObject({ type: 'audio', protocol: 'RTP/AVP', formats: ['0', '101'], sdp: { address: '127.0.0.1', rtp: call.caller.port } });
    const streams = media['streams'] as Dict[];
    expect(streams.map((s) => s['component'])).toEqual([1, 2]);
    expect(streams[0]).toMatchObject({ interface: 'pub1', address: '127.0.0.1', port: call.callerSendsTo.port, endpoint: { address: '127.0.0.1', port: call.caller.port } });
  });

  it('the standby holds the call as foreign, on the same ports and endpoints', async () => {
    await waitSessions(standby, { own: 0, foreign: 1 });
    // The answer's record may still be on its way.
    const q = await waitFor('the answer on the standby', async () => {
      const r = await standby.ng.ok({ command: 'query', 'call-id': 'fc-1' });
      return 'fc-1-B' in (r['tags'] as Dict) && r;
    });
    const callerSide = stream(q, 'fc-1-A', 0);
    expect(callerSide).toMatchObject({ 'local port': call.callerSendsTo.port, 'local address': '127.0.0.3', endpoint: { address: '127.0.0.1', port: call.caller.port } });
    expect(stream(q, 'fc-1-B', 0)).toMatchObject({ 'local port': call.calleeSendsTo.port, endpoint: { address: '127.0.0.1', port: call.callee.port } });
    const detail = await standby.cli('list sessions fc-1');
    expect(detail).toContain('\nforeign: yes\n');
    expect(detail).toContain('\nredis_keyspace: 1\n');
    expect(detail).toContain("--- Tag 'fc-1-A', type: FROM_TAG");
    // The standby's sockets relay (here: to the phones, since it is on another address).
    const got = call.callee.received.length;
    for (let i = 0; i < 3; i++) call.caller.send(rtpPacket(i, 7), call.callerSendsTo.port, '127.0.0.3');
    await call.callee.waitFor(got + 3);
  });

  it('a re-INVITE updates the foreign call in place: ports and counters kept, the new address taken', async () => {
    const before = stream(await standby.ng.ok({ command: 'query', 'call-id': 'fc-1' }), 'fc-1-A', 0);
    expect((before['stats'] as Dict)['packets']).toBe(3);
    const events = watch.of('fc-1').length;
    const moved = await RtpEndpoint.open('127.0.0.1');
    try {
      const common = { 'call-id': 'fc-1', 'from-tag': 'fc-1-A', 'to-tag': 'fc-1-B' };
      await owner.ng.ok({ ...common, command: 'offer', sdp: audioSdp('127.0.0.1', moved.port, { origin: 'moved' }) });
      await owner.ng.ok({ ...common, command: 'answer', sdp: audioSdp('127.0.0.1', call.callee.port) });
      const after = await waitFor('the standby to take the new address', async () => {
        const s = stream(await standby.ng.ok({ command: 'query', 'call-id': 'fc-1' }), 'fc-1-A', 0);
        return (s['endpoint'] as Dict)['port'] === moved.port && s;
      });
      expect(after['local port']).toBe(before['local port']);
      expect((after['stats'] as Dict)['packets']).toBe(3);
      // Each update was a DEL then an SADD; neither DEL ended the copy.
      expect(watch.of('fc-1').slice(events)).toEqual(['del', 'sadd', 'expire', 'del', 'sadd', 'expire']);
      expect(logLines(standby, 'call closed').filter((l) => l['callId'] === 'fc-1')).toEqual([]);
      await waitSessions(standby, { own: 0, foreign: 1 });
    } finally {
      moved.close();
    }
  });

  it('a delete on the owner removes the record and the foreign copy, releasing its ports', async () => {
    await owner.ng.ok({ command: 'delete', 'call-id': 'fc-1', 'from-tag': 'fc-1-A' });
    await waitSessions(standby, { own: 0, foreign: 0 });
    expect(watch.of('fc-1').at(-1)).toBe('del');
    expect(await redis.client(1).exists('fc-1')).toBe(0);
    expect(await standby.cli('list sessions fc-1')).toBe('\nCall ID not found (fc-1).\n\n');
    expect(await standby.cli('list interfaces')).toMatch(/Interface 'pub1' address '127.0.0.3' \(IPv4\)\n.*\n Ports used:\s+0 \//);
  });

  it("terminate on the standby (one call, 'foreign') never deletes the owner's record", async () => {
    const a = await TestCall.place(owner, 'fc-term-1');
    const b = await TestCall.place(owner, 'fc-term-2');
    try {
      await waitSessions(standby, { own: 0, foreign: 2 });
      // The answers' records too: one arriving after the terminate would bring its copy back, rightly.
      for (const id of ['fc-term-1', 'fc-term-2']) {
        await waitFor(`the answer of ${id} on the standby`, async () => `${id}-B` in ((await standby.ng.ok({ command: 'query', 'call-id': id }))['tags'] as object));
      }
      const dels = watch.events.filter((e) => e.startsWith('del ')).length;
      expect(await standby.cli('terminate fc-term-1')).toBe('\nCall Id (fc-term-1) successfully terminated by operator.\n\n');
      expect(await standby.cli('terminate foreign')).toBe('All foreign calls terminated by operator.\n');
      await waitSessions(standby, { own: 0, foreign: 0 });
      await sleep(200);
      const db1 = redis.client(1);
      expect(await db1.exists('fc-term-1', 'fc-term-2')).toBe(2);
      expect(watch.events.filter((e) => e.startsWith('del ')).length).toBe(dels);
      await waitSessions(owner, { own: 2, foreign: 0 });
      await a.mediaFlows();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('final-timeout of a foreign call', () => {
  it("ends the copy on the standby and leaves the owner's record", async () => {
    await withOwnerAndStandby(['--final-timeout=2'], async (redis, owner, standby) => {
      const call = await TestCall.place(owner, 'fc-final');
      try {
        await waitSessions(standby, { own: 0, foreign: 1 });
        await waitSessions(standby, { own: 0, foreign: 0 }, 6000);
        // The log line may reach us after the CLI's answer (two pipes).
        const closed = await waitFor('the close in the log', () => logLines(standby, 'call closed').find((l) => l['callId'] === 'fc-final'));
        expect(closed).toMatchObject({ reason: 'final_timeout', foreign: true });
        expect(await redis.client(1).exists('fc-final')).toBe(1);
        await waitSessions(owner, { own: 1, foreign: 0 });
      } finally {
        call.close();
      }
    });
  });
});
