import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  burst, kernelCall, kernelLegs as legsOf, kernelPackets as kernelOf, kernelPreflight, loaderObjects, loaderPid, mapDump, programLoaded, rtcp, rtp,
  userspacePackets as userspaceOf,
} from '../helpers/kernelPath.js';
import { bundledSdp, bundlePacket, hex, phoneSdp } from '../helpers/BundledCall.js';
import { NetLab, type NetnsAgent } from '../helpers/NetLab.js';
import { hardFileLimit, Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';
import { listTotalsValue } from '../helpers/stats.js';

// The kernel fast path on a real kernel: relay, caller and callee in network namespaces on one
// bridge (the relay's one device carries both directions, and holds the relay's address),
// tc-ingress program and map installed by the relay's loader. After hand-off the relay's
// sockets see none of the stream's packets, yet both ends get every one, rewritten with correct
// addresses, ports and checksums. Forwarding is off in the relay's namespace (the default), so
// the program sends by the device its loader looked up.
const TABLE = 42;
const A = { v4: '10.201.1.21', v6: 'fd00:201::21' };
const B = { v4: '10.201.1.22', v6: 'fd00:201::22' };
const R = { v4: '10.201.1.10', v6: 'fd00:201::10' };
const SIP = '10.201.1.5';

describe('kernel fast path (tc-ingress eBPF)', () => {
  let lab: NetLab;
  let relay: Relay;
  let sip: NetnsAgent;
  let a: NetnsAgent;
  let b: NetnsAgent;

  const startRelay = async (extra: string[] = [], range = { portMin: 30000, portMax: 30999 }): Promise<Relay> =>
    Relay.start({
      netns: lab.ns('relay'),
      ngHost: R.v4,
      control: sip.controlPath(SIP),
      interfaces: [`pub/${R.v4}`, `pub/${R.v6}`],
      ...range,
      maxFiles: true,
      args: [`--table=${TABLE}`, '--endpoint-learning=immediate', '--delete-delay=0', '--timeout=3', ...extra],
    });

  beforeAll(async () => {
    kernelPreflight();
    lab = NetLab.create();
    lab.addHost('sip', [SIP]);
    lab.addHost('relay', [R.v4]);
    lab.addHost('a', [A.v4]);
    lab.addHost('b', [B.v4]);
    for (const [host, v6] of [['relay', R.v6], ['a', A.v6], ['b', B.v6]] as const) lab.run(host, 'ip', '-6', 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad');
    [sip, a, b] = await Promise.all([lab.agent('sip'), lab.agent('a'), lab.agent('b')]);
    relay = await startRelay();
  });
  afterAll(async () => {
    // The last test runs without the fast path; an earlier failure may leave a loader running.
    let prog: number | null = null;
    try {
      prog = loaderObjects(helperPid()).prog;
    } catch {
      /* no loader */
    }
    if (relay) expect(await relay.stop()).toBe(0);
    // A clean stop takes the program off the devices.
    if (prog !== null) expect(programLoaded(prog)).toBe(false);
    lab?.destroy();
  });

  const call = (callId: string, fam: 'v4' | 'v6', aPort: number, bPort: number, o: Parameters<typeof kernelCall>[4] = {}): Promise<{ toA: number; toB: number }> =>
    kernelCall(relay, callId, { address: A[fam], port: aPort }, { address: B[fam], port: bPort }, o);
  const helperPid = (): number => loaderPid(lab, 'relay', relay);
  /** Entries in the map of the relay's loader. */
  const mapEntries = (): number => mapDump(loaderObjects(helperPid()).map).length;
  const kernelLegs = (callId: string): Promise<number> => legsOf(relay, callId);
  const userspacePackets = (): Promise<number> => userspaceOf(relay);
  const kernelPackets = (): Promise<number> => kernelOf(relay);

  it('hands a confirmed IPv4 call (RTP and RTCP) to the kernel: every packet arrives, rewritten, none through the relay', async () => {
    const sa = await a.socket(A.v4, 4000);
    const sb = await b.socket(B.v4, 5000);
    const sa2 = await a.socket(A.v4, 4001);
    const sb2 = await b.socket(B.v4, 5001);
    const { toA, toB } = await call('k4', 'v4', 4000, 5000);
    // One packet each way on RTP and RTCP confirms both ends (learning is immediate).
    await burst(sa, sb, R.v4, toB, [rtp(1, 0xa)]);
    await burst(sb, sa, R.v4, toA, [rtp(1, 0xb)]);
    await burst(sa2, sb2, R.v4, toB + 1, [rtcp(0xa)]);
    await burst(sb2, sa2, R.v4, toA + 1, [rtcp(0xb)]);
    await waitFor('four legs offloaded', async () => (await kernelLegs('k4')) === 4, 5000);
    expect(await listTotalsValue(relay, 'Kernel-only media streams')).toBe(2);

    const user0 = await userspacePackets();
    const kern0 = await kernelPackets();
    const toCallee = Array.from({ length: 50 }, (_, i) => rtp(100 + i, 0xa));
    const b0 = sb.received.length;
    await burst(sa, sb, R.v4, toB, toCallee);
    await burst(sb, sa, R.v4, toA, Array.from({ length: 50 }, (_, i) => rtp(100 + i, 0xb)));
    await burst(sa2, sb2, R.v4, toB + 1, [rtcp(0xa), rtcp(0xa)]);
    const got = sb.received.slice(b0);
    // Rewritten: from the relay's port towards B, to B's port, payload untouched (and the
    // checksum right, or the receiving kernel would have dropped them).
    for (const p of got) {
      expect(p.address).toBe(R.v4);
      expect(p.port).toBe(toA);
    }
    expect(got.map((p) => p.data.toString('hex'))).toEqual(toCallee.map((p) => p.toString('hex')));
    expect(sb2.received.at(-1)!.port).toBe(toA + 1);
    // The relay's sockets saw none of them; the kernel counted them all.
    await waitFor('kernel counters read back', async () => (await kernelPackets()) - kern0 >= 102, 4000);
    expect(await userspacePackets()).toBe(user0);
    const q = await relay.ng.ok({ command: 'query', 'call-id': 'k4' });
    const streams = ((q['tags'] as Record<string, { medias: { streams: { stats: { packets: number }; SSRC?: number }[] }[] }>)['A']!.medias[0]!.streams);
    expect(streams[0]!.stats.packets).toBe(51);
    expect(streams[0]!.SSRC).toBe(0xa);
    expect(streams[1]!.stats.packets).toBe(3);
    await relay.ng.ok({ command: 'delete', 'call-id': 'k4', 'from-tag': 'A' });
    expect(await listTotalsValue(relay, 'Kernel-only media streams')).toBe(0);
  });

  it('leaves a bundled port in userspace: the phone\'s ports go to the kernel, the bundle goes on demultiplexing', async () => {
    const sa = await a.socket(A.v4, 4720);
    const [sbAudio, sbVideo] = [await b.socket(B.v4, 5720), await b.socket(B.v4, 5722)];
    const keys = { 'call-id': 'kbundle', 'from-tag': 'A', ICE: 'remove', DTLS: 'off' };
    const o = await relay.ng.ok({ ...keys, command: 'offer', sdp: bundledSdp(4720, { address: A.v4 }), bundle: ['accept'] });
    const [toAudio, toVideo] = readSdp(o['sdp'] as string).medias.map((m) => m.port);
    const an = await relay.ng.ok({ ...keys, command: 'answer', 'to-tag': 'B', sdp: phoneSdp(5720, 5722, [], B.v4) });
    const bundlePort = readSdp(an['sdp'] as string).medias[0]!.port;
    // One packet each way confirms every RTP port (learning is immediate).
    await burst(sa, sbAudio, R.v4, bundlePort, [bundlePacket(1, 0xa, 0, 'a')]);
    await burst(sa, sbVideo, R.v4, bundlePort, [bundlePacket(1, 0xb, 96, 'v')]);
    await burst(sbAudio, sa, R.v4, toAudio!, [bundlePacket(1, 0xc, 0)]);
    await burst(sbVideo, sa, R.v4, toVideo!, [bundlePacket(1, 0xd, 96)]);
    await waitFor('the phone\'s two ports offloaded', async () => (await kernelLegs('kbundle')) === 2, 5000);
    const user0 = await userspacePackets();
    const audio = Array.from({ length: 10 }, (_, i) => bundlePacket(10 + i, 0xa, 0));
    const video = Array.from({ length: 10 }, (_, i) => bundlePacket(10 + i, 0xb, 96));
    const [a0, v0] = [sbAudio.received.length, sbVideo.received.length];
    for (let i = 0; i < 10; i++) {
      sa.send(audio[i]!, bundlePort, R.v4);
      sa.send(video[i]!, bundlePort, R.v4);
    }
    await waitFor('both streams at the phone', () => sbAudio.received.length - a0 >= 10 && sbVideo.received.length - v0 >= 10, 5000, 20);
    expect(hex(sbAudio.received.slice(a0).map((p) => p.data))).toEqual(hex(audio));
    expect(hex(sbVideo.received.slice(v0).map((p) => p.data))).toEqual(hex(video));
    // Demultiplexed by the relay's socket, still one of the two offloaded ports only.
    expect(await userspacePackets()).toBeGreaterThanOrEqual(user0 + 20);
    expect(await kernelLegs('kbundle')).toBe(2);
    await relay.ng.ok({ command: 'delete', 'call-id': 'kbundle', 'from-tag': 'A' });
  });

  it('takes a stream with a subscriber out of the kernel: callee and subscriber get every packet; unsubscribe hands it back', async () => {
    const sa = await a.socket(A.v4, 4900);
    const sb = await b.socket(B.v4, 5900);
    const sa2 = await a.socket(A.v4, 4901);
    const sb2 = await b.socket(B.v4, 5901);
    const sub = await sip.socket(SIP, 6900);
    const { toA, toB } = await call('ksub', 'v4', 4900, 5900);
    await burst(sa, sb, R.v4, toB, [rtp(1, 0xa)]);
    await burst(sb, sa, R.v4, toA, [rtp(1, 0xb)]);
    await burst(sa2, sb2, R.v4, toB + 1, [rtcp(0xa)]);
    await burst(sb2, sa2, R.v4, toA + 1, [rtcp(0xb)]);
    await waitFor('four legs offloaded', async () => (await kernelLegs('ksub')) === 4, 5000);

    const req = await relay.ng.ok({ command: 'subscribe request', 'call-id': 'ksub', 'from-tag': 'A', 'to-tag': 'S' });
    const subPort = readSdp(req['sdp'] as string).medias[0]!.port;
    await relay.ng.ok({ command: 'subscribe answer', 'call-id': 'ksub', 'to-tag': 'S', sdp: audioSdp(SIP, 6900, { direction: 'recvonly' }) });
    // A's RTP and RTCP legs copy in userspace now; B's stay in the kernel.
    await waitFor('two legs offloaded', async () => (await kernelLegs('ksub')) === 2, 5000);
    const packets = Array.from({ length: 30 }, (_, i) => rtp(200 + i, 0xa));
    const s0 = sub.received.length;
    await burst(sa, sb, R.v4, toB, packets);
    await waitFor('30 copies at the subscriber', () => sub.received.length - s0 >= 30, 5000, 20);
    const copies = sub.received.slice(s0);
    expect(copies.map((p) => p.data.toString('hex'))).toEqual(packets.map((p) => p.toString('hex')));
    expect(new Set(copies.map((p) => `${p.address}:${p.port}`))).toEqual(new Set([`${R.v4}:${subPort}`]));

    await relay.ng.ok({ command: 'unsubscribe', 'call-id': 'ksub', 'to-tag': 'S' });
    await waitFor('four legs offloaded again', async () => (await kernelLegs('ksub')) === 4, 5000);
    const s1 = sub.received.length;
    await burst(sa, sb, R.v4, toB, [rtp(300, 0xa), rtp(301, 0xa)]);
    expect(sub.received.length).toBe(s1);
    await relay.ng.ok({ command: 'delete', 'call-id': 'ksub', 'from-tag': 'A' });
  });

  it('shares the devices with another relay of another table: each one\'s streams go through the kernel', async () => {
    // Two relays in one namespace: both programs sit on the same device, one after the other;
    // a packet the first does not know must reach the second.
    const other = await Relay.start({
      netns: lab.ns('relay'),
      ngHost: R.v4,
      control: sip.controlPath(SIP),
      interfaces: [`pub/${R.v4}`],
      portMin: 31000,
      portMax: 31999,
      args: [`--table=${TABLE + 1}`, '--endpoint-learning=immediate', '--delete-delay=0'],
    });
    try {
      const sa = await a.socket(A.v4, 4700);
      const sb = await b.socket(B.v4, 5700);
      const offer = await other.ng.ok({ command: 'offer', 'call-id': 'k4-other-table', 'from-tag': 'A', sdp: audioSdp(A.v4, 4700) });
      const an = await other.ng.ok({ command: 'answer', 'call-id': 'k4-other-table', 'from-tag': 'A', 'to-tag': 'B', sdp: audioSdp(B.v4, 5700) });
      const toA = readSdp(offer['sdp'] as string).medias[0]!.port;
      const toB = readSdp(an['sdp'] as string).medias[0]!.port;
      await burst(sa, sb, R.v4, toB, [rtp(1, 1)]);
      await burst(sb, sa, R.v4, toA, [rtp(1, 2)]);
      const legs = async (): Promise<number> => (await other.cli('list sessions k4-other-table')).split('\n').filter((l) => l.endsWith(', kernel')).length;
      await waitFor('offloaded by the second relay', async () => (await legs()) === 2, 5000);
      const user0 = await listTotalsValue(other, 'Total relayed packets (userspace)');
      await burst(sa, sb, R.v4, toB, Array.from({ length: 30 }, (_, i) => rtp(2 + i, 1)));
      expect(await listTotalsValue(other, 'Total relayed packets (userspace)')).toBe(user0);
      await waitFor('second relay\'s kernel counted them', async () => (await listTotalsValue(other, 'Total relayed packets (kernel)')) >= 30, 4000);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('leaves any other source to userspace policy: relayed, not learned (and dropped with strict source)', async () => {
    const stranger = await a.socket(A.v4, 4100);
    const sa = await a.socket(A.v4, 4200);
    const sb = await b.socket(B.v4, 5200);
    for (const strict of [false, true]) {
      const id = strict ? 'k4-strict' : 'k4-other';
      const { toA, toB } = await call(id, 'v4', 4200, 5200, { flags: strict ? ['strict-source'] : [] });
      await burst(sa, sb, R.v4, toB, [rtp(1, 1)]);
      await burst(sb, sa, R.v4, toA, [rtp(1, 2)]);
      await waitFor('RTP offloaded', async () => (await kernelLegs(id)) === 2, 5000);
      const user0 = await userspacePackets();
      const before = sb.received.length;
      stranger.send(rtp(7, 7), toB, R.v4);
      if (strict) {
        await sleep(300);
        expect(sb.received.length).toBe(before);
        expect(await listTotalsValue(relay, 'Total relayed packet errors (userspace)')).toBeGreaterThan(0);
      } else {
        await waitFor('stranger relayed by userspace', () => sb.received.length > before, 3000);
        expect(await userspacePackets()).toBe(user0 + 1);
      }
      // The confirmed peer is still in the kernel.
      expect(await kernelLegs(id)).toBe(2);
      await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
    }
  });

  it('follows a re-INVITE to a new endpoint, and takes the entries away on delete', async () => {
    const sa = await a.socket(A.v4, 4300);
    const sb1 = await b.socket(B.v4, 5300);
    const sb2 = await b.socket(B.v4, 5302);
    const { toA, toB } = await call('k4-move', 'v4', 4300, 5300);
    await burst(sa, sb1, R.v4, toB, [rtp(1, 1)]);
    await burst(sb1, sa, R.v4, toA, [rtp(1, 2)]);
    await waitFor('offloaded', async () => (await kernelLegs('k4-move')) === 2, 5000);
    // B moves to port 5302: the old entry goes at once, media follows through userspace, then the kernel again.
    await relay.ng.ok({ command: 'offer', 'call-id': 'k4-move', 'from-tag': 'A', sdp: audioSdp(A.v4, 4300) });
    await relay.ng.ok({ command: 'answer', 'call-id': 'k4-move', 'from-tag': 'A', 'to-tag': 'B', sdp: audioSdp(B.v4, 5302) });
    await burst(sa, sb2, R.v4, toB, [rtp(2, 1)]);
    await burst(sb2, sa, R.v4, toA, [rtp(2, 2)]);
    await waitFor('offloaded again', async () => (await kernelLegs('k4-move')) === 2, 5000);
    const kern0 = await kernelPackets();
    await burst(sa, sb2, R.v4, toB, Array.from({ length: 20 }, (_, i) => rtp(10 + i, 1)));
    expect(sb1.received.length).toBe(1);
    await waitFor('kernel counted the moved stream', async () => (await kernelPackets()) - kern0 >= 20, 4000);
    await relay.ng.ok({ command: 'delete', 'call-id': 'k4-move', 'from-tag': 'A' });
    expect(await listTotalsValue(relay, 'Kernel-only media streams')).toBe(0);
  });

  it('relays IPv6 and rtcp-mux (muxed to a side that does not mux) in the kernel', async () => {
    const sa = await a.socket(A.v6, 6000);
    const sb = await b.socket(B.v6, 7000);
    const sbRtcp = await b.socket(B.v6, 7001);
    // A muxes, B does not (the relay demuxes): A's RTCP on the RTP port leaves towards B's RTCP port.
    const { toA, toB } = await call('k6', 'v6', 6000, 7000, { muxA: true, offer: { 'rtcp-mux': ['demux'] } });
    await burst(sa, sb, R.v6, toB, [rtp(1, 0x6a)]);
    await burst(sb, sa, R.v6, toA, [rtp(1, 0x6b)]);
    await burst(sbRtcp, sa, R.v6, toA + 1, [rtcp(0x6b)]);
    await waitFor('IPv6 RTP and RTCP offloaded', async () => (await kernelLegs('k6')) === 3, 5000);
    const user0 = await userspacePackets();
    await burst(sa, sb, R.v6, toB, Array.from({ length: 30 }, (_, i) => rtp(10 + i, 0x6a)));
    await burst(sa, sbRtcp, R.v6, toB, [rtcp(0x6a)]);
    expect(sb.received.at(-1)!.address).toBe(R.v6);
    expect(sbRtcp.received.at(-1)!.port).toBe(toA + 1);
    expect(await userspacePackets()).toBe(user0);
    await relay.ng.ok({ command: 'delete', 'call-id': 'k6', 'from-tag': 'A' });
  });

  it('times a kernel-relayed call out on schedule: alive while media flows, closed once it stops', async () => {
    const sa = await a.socket(A.v4, 4400);
    const sb = await b.socket(B.v4, 5400);
    const { toA, toB } = await call('k4-timeout', 'v4', 4400, 5400);
    await burst(sa, sb, R.v4, toB, [rtp(1, 1)]);
    await burst(sb, sa, R.v4, toA, [rtp(1, 2)]);
    await waitFor('offloaded', async () => (await kernelLegs('k4-timeout')) === 2, 5000);
    // 5 s of media both ways with timeout=3: the kernel's last-packet times keep it alive.
    await Promise.all([sa.stream(R.v4, toB, 1, 20), sb.stream(R.v4, toA, 2, 20)]);
    await sleep(5000);
    expect(await relay.cli('list sessions all')).toContain('k4-timeout');
    await Promise.all([sa.stop(), sb.stop()]);
    const stopped = Date.now();
    await waitFor('call timed out', async () => !(await relay.cli('list sessions all')).includes('k4-timeout'), 10_000, 200);
    const after = Date.now() - stopped;
    expect(after).toBeGreaterThan(1500);
    expect(await listTotalsValue(relay, 'Kernel-only media streams')).toBe(0);
  });

  it('survives a crash of its loader: restarted, streams installed again', async () => {
    const sa = await a.socket(A.v4, 4600);
    const sb = await b.socket(B.v4, 5600);
    const { toA, toB } = await call('k4-crash', 'v4', 4600, 5600);
    await burst(sa, sb, R.v4, toB, [rtp(1, 1)]);
    await burst(sb, sa, R.v4, toA, [rtp(1, 2)]);
    await waitFor('offloaded', async () => (await kernelLegs('k4-crash')) === 2, 5000);
    process.kill(helperPid(), 'SIGKILL');
    await waitFor('loader restarted', () => relay.output.includes('re-installing streams'), 5000);
    const kern0 = await kernelPackets();
    const user0 = await userspacePackets();
    await burst(sa, sb, R.v4, toB, Array.from({ length: 20 }, (_, i) => rtp(2 + i, 1)));
    await waitFor('kernel counted after the restart', async () => (await kernelPackets()) - kern0 >= 20, 4000);
    expect(await userspacePackets()).toBe(user0);
    await relay.ng.ok({ command: 'delete', 'call-id': 'k4-crash', 'from-tag': 'A' });
  });

  it('leaves no program forwarding when the relay is killed: its loader dies with it', async () => {
    const { prog } = loaderObjects(helperPid());
    relay.proc.kill('SIGKILL');
    await relay.exited;
    relay.ng.close();
    await waitFor('the dead relay\'s program gone', () => !programLoaded(prog), 5000);
    relay = await startRelay();
    expect(loaderObjects(helperPid()).prog).not.toBe(prog);
  });

  it('installs thousands of calls (up to 10,000, as the open-file limit allows) and removes them, leaving nothing in the kernel', async () => {
    await relay.stop();
    // Learning off: both ends are confirmed by their SDP, so every call is offloaded at its answer.
    relay = await startRelay(['--endpoint-learning=off', '--timeout=600'], { portMin: 20000, portMax: 61999 });
    // Four sockets per call: the machine's hard limit on open files bounds the count.
    const calls = Math.min(10_000, Math.floor((hardFileLimit() - 500) / 4));
    const started = Date.now();
    for (let i = 0; i < calls; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, calls - i) }, async (_, j) => {
          const n = i + j;
          const id = `scale-${n}`;
          await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'A', sdp: audioSdp(A.v4, 10000 + 2 * (n % 20000)) });
          await relay.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': 'A', 'to-tag': 'B', sdp: audioSdp(B.v4, 10000 + 2 * (n % 20000)) });
        }),
      );
    }
    const setupMs = Date.now() - started;
    await waitFor('every call offloaded', async () => (await listTotalsValue(relay, 'Kernel-only media streams')) === 2 * calls, 60_000, 500);
    const entries = mapEntries();
    console.log(`${calls} calls set up and offloaded in ${Date.now() - started} ms (setup ${setupMs} ms); ${entries} kernel entries`);
    expect(entries).toBe(4 * calls);
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    await waitFor('kernel entries removed', () => mapEntries() === 0, 30_000, 500);
    expect(await listTotalsValue(relay, 'Kernel-only media streams')).toBe(0);
  }, 240_000);

  it('runs in userspace with table=-1, as before', async () => {
    await relay.stop();
    relay = await startRelay(['--table=-1']);
    expect(() => helperPid()).toThrow(/no ngrelay-kernel/);
    const sa = await a.socket(A.v4, 4500);
    const sb = await b.socket(B.v4, 5500);
    const { toA, toB } = await call('u4', 'v4', 4500, 5500);
    await burst(sa, sb, R.v4, toB, [rtp(1, 1)]);
    await burst(sb, sa, R.v4, toA, [rtp(1, 2)]);
    const user0 = await userspacePackets();
    await burst(sa, sb, R.v4, toB, Array.from({ length: 10 }, (_, i) => rtp(2 + i, 1)));
    expect(await userspacePackets()).toBe(user0 + 10);
    expect(await kernelLegs('u4')).toBe(0);
  });
});
