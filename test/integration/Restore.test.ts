import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, numSessions, TestCall, waitSessions } from '../helpers/cluster.js';
import { BundledCall } from '../helpers/BundledCall.js';
import { IcePeer } from '../helpers/IcePeer.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
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

/**
 * An ICE call on an interface with two IPv4 addresses and an IPv6 one: the peer (the offerer,
 * controlling) nominates the relay's candidate on `nominated`, so media to the peer leaves from
 * there (a browser drops media from any other address of the relay).
 */
class IceCall {
  private seq = 0;
  private constructor(
    readonly peer: IcePeer,
    readonly phone: RtpEndpoint,
    /** The relay's nominated candidate towards the peer, and its port towards the phone. */
    readonly peerSide: { address: string; port: number },
    readonly phoneSide: number,
    readonly callId: string,
    private readonly peerSdp: string,
    private readonly phoneSdp: string,
  ) {}

  static async place(relay: Relay, callId: string, peerAddress: string, nominated: string): Promise<IceCall> {
    const peer = await IcePeer.open(`peer${callId.replace(/\W/g, '')}`, 'peerpassword0123456789ab', peerAddress);
    const phone = await RtpEndpoint.open();
    const peerSdp = audioSdp('127.0.0.1', peer.port, { extra: peer.sdpLines() });
    const phoneSdp = audioSdp('127.0.0.1', phone.port);
    const o = await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'ice-A', sdp: peerSdp, ICE: 'remove' });
    const a = await relay.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'ice-A', 'to-tag': 'ice-B', sdp: phoneSdp });
    const answer = String(a['sdp']);
    const port = Number(new RegExp(`^a=candidate:\\S+ 1 UDP \\d+ ${nominated.replaceAll('.', '\\.')} (\\d+) typ host`, 'm').exec(answer)![1]);
    peer.takeRelay(answer);
    peer.check(port, 'controlling', true, undefined, nominated);
    await peer.until(() => peer.responses.some((r) => r.type === 0x0101), 'success response');
    return new IceCall(peer, phone, { address: nominated, port }, Number(/^m=audio (\d+)/m.exec(String(o['sdp']))![1]), callId, peerSdp, phoneSdp);
  }

  /** The candidate lines of the phone's re-INVITE to the peer (the relay is controlled: no a=remote-candidates). */
  async reofferCandidates(relay: Relay): Promise<string[]> {
    const o = await relay.ng.ok({ command: 'offer', 'call-id': this.callId, 'from-tag': 'ice-B', 'to-tag': 'ice-A', sdp: this.phoneSdp });
    await relay.ng.ok({ command: 'answer', 'call-id': this.callId, 'from-tag': 'ice-B', 'to-tag': 'ice-A', sdp: this.peerSdp });
    return String(o['sdp']).split('\r\n').filter((l) => /^a=(candidate|remote-candidates)/.test(l));
  }

  /** `n` packets each way: every one arrives intact, the peer's from the nominated candidate. */
  async mediaFlows(n = 1): Promise<void> {
    const first = this.seq + 1;
    const payload = (seq: number, ssrc: number): Buffer => rtpPacket(seq, ssrc).fill(seq & 0xff, 12);
    const toPeer = this.peer.media.length;
    const toPhone = this.phone.received.length;
    for (let i = 0; i < n; i++) {
      const seq = ++this.seq;
      this.phone.send(payload(seq, 0x3333), this.phoneSide, '127.0.0.1');
      this.peer.send(payload(seq, 0x4444), this.peerSide.port, this.peerSide.address);
    }
    await this.peer.until(() => this.peer.media.length >= toPeer + n, 'media from the relay');
    const gotPhone = await this.phone.waitFor(toPhone + n);
    const seqs = Array.from({ length: n }, (_, i) => first + i);
    expect(this.peer.media.slice(toPeer).map((m) => [m.from, m.data.readUInt16BE(2), m.data.equals(payload(m.data.readUInt16BE(2), 0x3333))]))
      .toEqual(seqs.map((q) => [this.peerSide, q, true]));
    expect(gotPhone.slice(toPhone).map((m) => [m.data.readUInt16BE(2), m.data.equals(payload(m.data.readUInt16BE(2), 0x4444))])).toEqual(seqs.map((q) => [q, true]));
  }

  close(): void {
    this.peer.close();
    this.phone.close();
  }
}

/** Waits until the call's record names its ICE pair, nominated, on `local`. */
async function pairRecorded(redis: RedisServer, callId: string, local: string): Promise<void> {
  await waitFor(`${callId}'s nominated pair in its record`, async () => (await redis.client(1).smembers(callId)).some((r) => r.includes(`"icePair":{"local":"${local}"`) && /"nominated":true/.test(r)), 5000);
}

describe('a relay restarted on its DB restores its own calls', () => {
  let redis: RedisServer;
  let relay: Relay;
  const calls: TestCall[] = [];
  let subscriber: RtpEndpoint;
  /** A BUNDLE call: which m= lines share the caller's port must survive, or the port stops demultiplexing. */
  let bundled: BundledCall;
  /** ICE on the interface's IPv6 address: its candidates' ports are bound again and media leaves from the selected address. */
  let ice: IceCall;
  /** ICE on the interface's second IPv4 address: media goes on from there at once, with no new checks. */
  let ice2: IceCall;
  const INTERFACES = ['pub1/127.0.0.1', 'pub1/::1', 'pub1/127.0.0.2'];

  /** The subscriber of rs-2's caller gets a copy of what the caller sends. */
  async function subscriberHears(c: TestCall): Promise<void> {
    const before = subscriber.received.length;
    await c.mediaFlows();
    const got = await subscriber.waitFor(before + 3);
    expect(got.slice(before).every((p) => p.data.readUInt32BE(8) === 0x1111)).toBe(true);
  }

  /** A re-INVITE of `c` whose offer asks for `replace: SDP-version`; the o= version the callee gets. */
  async function reofferVersion(c: TestCall, origin: string): Promise<bigint> {
    const keys = { 'call-id': c.callId, 'from-tag': c.fromTag, 'to-tag': c.toTag, 'received-from': ['IP4', '127.0.0.1'] };
    const o = await relay.ng.ok({ ...keys, command: 'offer', sdp: audioSdp('127.0.0.1', c.caller.port, { origin }), replace: ['SDP-version'] });
    await relay.ng.ok({ ...keys, command: 'answer', sdp: audioSdp('127.0.0.1', c.callee.port) });
    return BigInt(/^o=\S+ \d+ (\d+) /m.exec(String(o['sdp']))![1]!);
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    relay = await clusterRelay(redis, 1, { interfaces: INTERFACES });
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
    ice = await IceCall.place(relay, 'rs-ice', '::1', '::1');
    await ice.mediaFlows();
    ice2 = await IceCall.place(relay, 'rs-ice2', '127.0.0.1', '127.0.0.2');
    await ice2.mediaFlows();
    await pairRecorded(redis, 'rs-ice2', '127.0.0.2');
  });

  afterAll(async () => {
    for (const c of calls) c.close();
    subscriber?.close();
    bundled?.close();
    ice?.close();
    ice2?.close();
    await relay?.stop();
    await redis?.stop();
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}: same ports, media flows again`, async () => {
      const before = await Promise.all(calls.map((c) => localPorts(relay, c.callId)));
      await controlsHold(calls[0]!);
      await subscriberHears(calls[1]!);
      const checks = ice2.peer.checks.length;
      const version = await reofferVersion(calls[0]!, 'test');
      await relay.stop(signal);
      expect(await redis.client(1).exists('rs-1', 'rs-2', 'rs-bundle', 'rs-ice', 'rs-ice2')).toBe(5);
      relay = await clusterRelay(redis, 1, { interfaces: INTERFACES, portMin: relay.portMin, portMax: relay.portMax });
      expect(await numSessions(relay)).toEqual({ own: 5, foreign: 0, total: 5 });
      // The nominated pair on the second IPv4 address carries every packet at once, with no checks either way.
      await ice2.mediaFlows(50);
      expect(ice2.peer.checks.length).toBe(checks);
      // ICE stays complete: a re-INVITE to the peer names the selected candidate only.
      // (RTCP, not muxed and without candidates of the peer's, names its own address at the RTP pair's preference, as rtpengine.)
      expect(await ice2.reofferCandidates(relay)).toEqual([
        expect.stringMatching(new RegExp(`^a=candidate:\\S+ 1 UDP 2130706175 127\\.0\\.0\\.2 ${ice2.peerSide.port} typ host$`)),
        expect.stringMatching(/^a=candidate:\S+ 2 UDP 2130706174 127\.0\.0\.1 \d+ typ host$/),
      ]);
      await ice2.mediaFlows();
      for (const [i, c] of calls.entries()) {
        expect(await localPorts(relay, c.callId)).toEqual(before[i]);
        await c.mediaFlows();
      }
      await bundled.demultiplexes();
      await ice.mediaFlows();
      expect(await relay.cli('list sessions own')).toMatch(/rs-1 \| deletionmark:  no \| .*redis_keyspace:1 \| foreign:no/);
      await controlsHold(calls[0]!);
      await subscriberHears(calls[1]!);
      // The callee's o= version goes on from where it was (the caller's own is 1): a changed SDP raises it by one.
      expect(await reofferVersion(calls[0]!, 'other')).toBe(version + 1n);
      // Still the owner: a delete removes the record.
      if (signal === 'SIGKILL') {
        await relay.ng.ok({ command: 'delete', 'call-id': 'rs-2', 'from-tag': 'rs-2-A' });
        expect(await redis.client(1).exists('rs-2')).toBe(0);
        await waitSessions(relay, { own: 4, foreign: 0 });
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
