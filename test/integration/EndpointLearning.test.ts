import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, streamsOf } from '../helpers/MediaCall.js';
import type { Dict } from '../helpers/NgClient.js';
import { freePort } from '../helpers/ports.js';
import { Relay, runDaemon, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtcpPacket, rtpPacket } from '../helpers/RtpEndpoint.js';
import { totalStatistics } from '../helpers/stats.js';

/** rtpengine's learning window after the last signalling, plus a margin for the sweep of timers. */
const WINDOW_MS = 3000 + 300;

/**
 * A call whose callee advertises one socket in its SDP (`call.callee`) but may send from
 * others, the way a phone behind NAT does.
 */
async function natCall(relay: Relay, keys: Dict = {}): Promise<MediaCall> {
  return MediaCall.establish(relay, { offer: keys });
}

/** Sends one caller packet and resolves with the phone that received it. */
async function whereDoesCallerMediaGo(call: MediaCall, phones: RtpEndpoint[], seq: number): Promise<number> {
  const before = phones.map((p) => p.received.length);
  call.callerSends(1, seq);
  const phone = await waitFor(`caller packet ${seq} to arrive`, () => phones.find((p, i) => p.received.length > before[i]!));
  return phone.port;
}

/** The callee sends one packet from `from` and waits until the caller got it. */
async function calleeSendsFrom(call: MediaCall, from: RtpEndpoint, seq: number): Promise<void> {
  const n = call.caller.received.length;
  from.send(rtpPacket(seq, 0x2222), call.toCallee.port, '127.0.0.1');
  await waitFor(`callee packet ${seq} relayed`, () => call.caller.received.length > n);
}

async function calleeStream(call: MediaCall) {
  return streamsOf(await call.query(), 'callee')[0]!;
}

describe('endpoint learning', () => {
  let relay: Relay;
  let natA: RtpEndpoint;
  let natB: RtpEndpoint;
  let natC: RtpEndpoint;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });
  const phones = (call: MediaCall): RtpEndpoint[] => [call.callee, natA, natB, natC];
  const openNat = async (): Promise<void> => {
    natA = await RtpEndpoint.open();
    natB = await RtpEndpoint.open();
    natC = await RtpEndpoint.open();
  };
  const closeNat = (): void => [natA, natB, natC].forEach((n) => n.close());

  it('delayed (default): sends to the SDP address until learned, follows every new source for 3 s, then confirms', async () => {
    await openNat();
    const call = await natCall(relay);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(call.callee.port);
    await calleeSendsFrom(call, natA, 0);
    expect(await whereDoesCallerMediaGo(call, phones(call), 1)).toBe(natA.port);
    // Still inside the window: another source replaces the first.
    await calleeSendsFrom(call, natB, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 2)).toBe(natB.port);
    expect((await calleeStream(call)).flags).not.toContain('confirmed');
    await sleep(WINDOW_MS);
    // After the window the first packet's source is confirmed, even when it is new.
    await calleeSendsFrom(call, natC, 2);
    expect((await calleeStream(call)).flags).toContain('confirmed');
    await calleeSendsFrom(call, natA, 3);
    expect(await whereDoesCallerMediaGo(call, phones(call), 3)).toBe(natC.port);
    const st = await calleeStream(call);
    expect(st.endpoint).toMatchObject({ address: '127.0.0.1', port: natC.port });
    // Packets from other sources after confirmation are still relayed (no strict source).
    expect(st.stats.packets).toBe(4);
    expect(st.stats.errors).toBe(0);
    await call.delete();
    call.close();
    closeNat();
  });

  it('delayed: the window restarts with every signalling event (a re-INVITE)', async () => {
    await openNat();
    const call = await natCall(relay);
    await sleep(WINDOW_MS);
    await call.answer();
    await calleeSendsFrom(call, natA, 0);
    await calleeSendsFrom(call, natB, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(natB.port);
    expect((await calleeStream(call)).flags).not.toContain('confirmed');
    await call.delete();
    call.close();
    closeNat();
  });

  it('immediate (NG key): the first source is confirmed and kept', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'immediate' });
    await calleeSendsFrom(call, natA, 0);
    expect((await calleeStream(call)).flags).toContain('confirmed');
    await calleeSendsFrom(call, natB, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(natA.port);
    await call.delete();
    call.close();
    closeNat();
  });

  it('immediate (flag endpoint-learning-immediate) works like the key', async () => {
    await openNat();
    const call = await natCall(relay, { flags: ['endpoint-learning-immediate'] });
    await calleeSendsFrom(call, natB, 0);
    await calleeSendsFrom(call, natA, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(natB.port);
    await call.delete();
    call.close();
    closeNat();
  });

  it('RTCP on an RTP port without mux is relayed but neither learns nor confirms (rtpengine GH #697)', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'immediate' });
    const n = call.caller.received.length;
    natA.send(rtcpPacket(0x2222), call.toCallee.port, '127.0.0.1');
    await waitFor('stray RTCP relayed', () => call.caller.received.length > n);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(call.callee.port);
    expect((await calleeStream(call)).flags).not.toContain('confirmed');
    await calleeSendsFrom(call, natA, 0);
    expect(await whereDoesCallerMediaGo(call, phones(call), 1)).toBe(natA.port);
    await call.delete();
    call.close();
    closeNat();
  });

  it('off: always sends to the SDP address, relaying what other sources send', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'off' });
    await calleeSendsFrom(call, natA, 0);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(call.callee.port);
    await sleep(WINDOW_MS);
    await calleeSendsFrom(call, natB, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 1)).toBe(call.callee.port);
    const st = await calleeStream(call);
    expect(st.endpoint).toMatchObject({ port: call.callee.port });
    // Nothing to learn: the SDP endpoint counts as confirmed from the start.
    expect(st.flags).toContain('confirmed');
    expect(st.stats.packets).toBe(2);
    await call.delete();
    call.close();
    closeNat();
  });

  it('heuristic: inside the window the exact SDP endpoint outranks any other source', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'heuristic' });
    await calleeSendsFrom(call, call.callee, 0);
    await calleeSendsFrom(call, natA, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(call.callee.port);
    await call.delete();
    call.close();

    // A lower-ranked source is learned until the SDP endpoint shows up.
    const call2 = await natCall(relay, { 'endpoint-learning': 'heuristic' });
    await calleeSendsFrom(call2, natB, 0);
    expect(await whereDoesCallerMediaGo(call2, phones(call2), 0)).toBe(natB.port);
    await calleeSendsFrom(call2, call2.callee, 1);
    await calleeSendsFrom(call2, natC, 2);
    expect(await whereDoesCallerMediaGo(call2, phones(call2), 1)).toBe(call2.callee.port);
    await call2.delete();
    call2.close();
    closeNat();
  });

  it('strict source: once confirmed, other sources are dropped and counted as errors', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'immediate', flags: ['strict source'] });
    const before = await totalStatistics(relay);
    await calleeSendsFrom(call, natA, 0);
    for (let i = 0; i < 5; i++) natB.send(rtpPacket(10 + i, 0x2222), call.toCallee.port, '127.0.0.1');
    await calleeSendsFrom(call, natA, 1);
    await sleep(100);
    expect(call.caller.received.map((p) => p.data.readUInt16BE(2))).toEqual([0, 1]);
    const st = await calleeStream(call);
    expect(st.flags).toEqual(expect.arrayContaining(['confirmed', 'strict source address']));
    expect(st.stats).toMatchObject({ packets: 2, errors: 5 });
    const q = await call.query();
    expect((q['totals'] as { RTP: { errors: number } }).RTP.errors).toBe(5);
    const after = await totalStatistics(relay);
    expect(after.relayedpacketerrors - before.relayedpacketerrors).toBe(5);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(natA.port);
    await call.delete();
    call.close();
    closeNat();
  });

  it('media handover: a confirmed endpoint moves to a new source', async () => {
    await openNat();
    const call = await natCall(relay, { 'endpoint-learning': 'immediate', flags: ['media handover'] });
    await calleeSendsFrom(call, natA, 0);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(natA.port);
    await calleeSendsFrom(call, natB, 1);
    expect(await whereDoesCallerMediaGo(call, phones(call), 1)).toBe(natB.port);
    const st = await calleeStream(call);
    expect(st.flags).toContain('media handover');
    expect(st.endpoint).toMatchObject({ port: natB.port });
    await call.delete();
    call.close();
    closeNat();
  });

  it('asymmetric: never learns, sends to the SDP address', async () => {
    await openNat();
    const call = await natCall(relay, { flags: ['asymmetric'] });
    await calleeSendsFrom(call, natA, 0);
    expect(await whereDoesCallerMediaGo(call, phones(call), 0)).toBe(call.callee.port);
    const q = await call.query();
    const media = (q['tags'] as Record<string, { medias: { flags: string[] }[] }>)['callee']!.medias[0]!;
    expect(media.flags).toContain('asymmetric');
    await call.delete();
    call.close();
    closeNat();
  });
});

describe('endpoint-learning option', () => {
  it('off from the command line sends to the SDP address', async () => {
    const relay = await Relay.start({ args: ['--delete-delay=0', '--endpoint-learning=off'] });
    const nat = await RtpEndpoint.open();
    const call = await MediaCall.establish(relay);
    await calleeSendsFrom(call, nat, 0);
    expect(await whereDoesCallerMediaGo(call, [call.callee, nat], 0)).toBe(call.callee.port);
    // The NG key overrides the option for one call.
    const call2 = await MediaCall.establish(relay, { offer: { 'endpoint-learning': 'immediate' } });
    await calleeSendsFrom(call2, nat, 0);
    expect(await whereDoesCallerMediaGo(call2, [call2.callee, nat], 0)).toBe(nat.port);
    call.close();
    call2.close();
    nat.close();
    expect(await relay.stop()).toBe(0);
  });

  it('rejects an unknown mode at start-up', async () => {
    const r = await runDaemon(['--config-file=none', '--interface=127.0.0.1', '--endpoint-learning=sometimes', `--listen-ng=127.0.0.1:${await freePort()}`]);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('endpoint-learning');
  });
});
