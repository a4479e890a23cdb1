import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall } from '../helpers/MediaCall.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { udpPayloads } from '../helpers/pcapPackets.js';

/** A PCMU packet whose payload is `fill` (0x00: loud, far from µ-law silence 0xFF). */
function audio(seq: number, ssrc: number, fill = 0x00): Buffer {
  const p = rtpPacket(seq, ssrc, 0, 160);
  p.fill(fill, 12);
  return p;
}

/** An RFC 4733 event packet (PT 101) for digit 5, timestamp of `seq`'s audio. */
function event(seq: number, ssrc: number, end = false): Buffer {
  const p = rtpPacket(seq, ssrc, 101, 4);
  p[12] = 5;
  p[13] = (end ? 0x80 : 0) | 10;
  p.writeUInt16BE(320, 14);
  return p;
}

/**
 * Caller sends `n` packets made by `make(seq)`; resolves with what reached the callee once
 * `expect` did. The relay keeps a stream's order, so a packet that should have been dropped
 * and was not shows up at the latest in the next burst, which each test checks exactly.
 */
async function burst(call: MediaCall, first: number, n: number, make: (seq: number) => Buffer, expect: number): Promise<Buffer[]> {
  const before = call.callee.received.length;
  for (let i = 0; i < n; i++) call.caller.send(make(first + i), call.toCaller.port, call.toCaller.address!);
  await call.callee.waitFor(before + expect);
  return call.callee.received.slice(before).map((r) => r.data);
}

/** RTP sequence numbers in the one pcap file of a call. */
function recordedSeqs(dir: string, callId: string): number[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(callId) && f.endsWith('.pcap'));
  expect(files).toHaveLength(1);
  return udpPayloads(join(dir, files[0]!)).map((p) => p.readUInt16BE(2));
}

const pts = (ps: Buffer[]): number[] => ps.map((p) => p[1]! & 0x7f);
const seqs = (ps: Buffer[]): number[] => ps.map((p) => p.readUInt16BE(2));

describe('media control: block and silence media, block DTMF, forwarding', () => {
  let relay: Relay;
  let dir: string;
  let httpPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ngrelay-fwd-'));
    httpPort = await freePort();
    relay = await Relay.start({ args: ['--delete-delay=0', `--recording-dir=${dir}`, `--listen-http=127.0.0.1:${httpPort}`] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('block DTMF drops the party\'s RFC 4733 events (a gap in sequence numbers) and unblock DTMF lets them through again', async () => {
    const call = await MediaCall.establish(relay);
    const mixed = (seq: number): Buffer => (seq % 2 === 0 ? audio(seq, 0xd7f) : event(seq, 0xd7f));
    expect(pts(await burst(call, 0, 6, mixed, 6))).toEqual([0, 101, 0, 101, 0, 101]);
    await relay.ng.ok({ command: 'block DTMF', 'call-id': call.callId, 'from-tag': 'caller' });
    const blocked = await burst(call, 6, 6, mixed, 3);
    expect(pts(blocked)).toEqual([0, 0, 0]);
    expect(seqs(blocked)).toEqual([6, 8, 10]);
    // The other party's events are its own: not blocked.
    const back = call.caller.received.length;
    call.callee.send(event(0, 0xbac), call.toCallee.port, call.toCallee.address!);
    await call.caller.waitFor(back + 1);
    await relay.ng.ok({ command: 'unblock DTMF', 'call-id': call.callId, 'from-tag': 'caller' });
    expect(pts(await burst(call, 12, 4, mixed, 4))).toEqual([0, 101, 0, 101]);
    // Blocked for the whole call (no party named): both directions.
    await relay.ng.ok({ command: 'block DTMF', 'call-id': call.callId });
    expect(pts(await burst(call, 16, 4, mixed, 2))).toEqual([0, 0]);
    await relay.ng.ok({ command: 'unblock DTMF', 'call-id': call.callId });
    expect(pts(await burst(call, 20, 2, mixed, 2))).toEqual([0, 101]);
    call.close();
  });

  it('DTMF-security zero turns every event into the digit 0; DTMF-security DTMF into the digit given', async () => {
    const call = await MediaCall.establish(relay);
    await relay.ng.ok({ command: 'block DTMF', 'call-id': call.callId, 'from-tag': 'caller', 'DTMF-security': 'zero' });
    const zero = await burst(call, 0, 2, (s) => event(s, 0x2e0), 2);
    expect(zero.map((p) => p[12])).toEqual([0, 0]);
    await relay.ng.ok({ command: 'block DTMF', 'call-id': call.callId, 'from-tag': 'caller', 'DTMF-security': 'DTMF', digit: '#' });
    const hash = await burst(call, 2, 2, (s) => event(s, 0x2e0), 2);
    expect(hash.map((p) => p[12])).toEqual([11, 11]);
    call.close();
  });

  it('silence media keeps every packet (sequence, timestamp, size) with a silent payload, unsilence media restores the audio', async () => {
    const call = await MediaCall.establish(relay);
    await relay.ng.ok({ command: 'silence media', 'call-id': call.callId, 'from-tag': 'caller' });
    const silent = await burst(call, 0, 10, (s) => audio(s, 0x5e1), 10);
    expect(seqs(silent)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(silent.map((p) => p.readUInt32BE(4))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((s) => s * 160));
    for (const p of silent) {
      expect(p.length).toBe(172);
      expect([...new Set(p.subarray(12))]).toEqual([0xff]);
    }
    // The other direction is not silenced.
    const back = call.caller.received.length;
    call.callee.send(audio(0, 0xbac, 0x12), call.toCallee.port, call.toCallee.address!);
    await call.caller.waitFor(back + 1);
    expect(call.caller.received[back]!.data[20]).toBe(0x12);
    await relay.ng.ok({ command: 'unsilence media', 'call-id': call.callId, 'from-tag': 'caller' });
    const loud = await burst(call, 10, 3, (s) => audio(s, 0x5e1), 3);
    for (const p of loud) expect([...new Set(p.subarray(12))]).toEqual([0x00]);
    call.close();
  });

  it('block media drops everything the party sends until unblock media (the party\'s, or all); the other direction flows', async () => {
    const call = await MediaCall.establish(relay);
    await relay.ng.ok({ command: 'block media', 'call-id': call.callId, 'from-tag': 'caller' });
    expect(await burst(call, 0, 5, (s) => audio(s, 0xb10), 0)).toEqual([]);
    const back = call.caller.received.length;
    call.calleeSends(3);
    await call.caller.waitFor(back + 3);
    // Unblocking the call leaves the party's own block (as 10.5); flag `all` clears it too.
    await relay.ng.ok({ command: 'unblock media', 'call-id': call.callId });
    expect(await burst(call, 5, 2, (s) => audio(s, 0xb10), 0)).toEqual([]);
    await relay.ng.ok({ command: 'unblock media', 'call-id': call.callId, flags: ['all'] });
    expect(seqs(await burst(call, 7, 3, (s) => audio(s, 0xb10), 3))).toEqual([7, 8, 9]);
    // Flag `all` on block media blocks the call, not each party: unblocking the call ends it.
    await relay.ng.ok({ command: 'block media', 'call-id': call.callId, flags: ['all'] });
    expect(await burst(call, 10, 1, (s) => audio(s, 0xb10), 0)).toEqual([]);
    await relay.ng.ok({ command: 'unblock media', 'call-id': call.callId });
    expect(seqs(await burst(call, 11, 1, (s) => audio(s, 0xb10), 1))).toEqual([11]);
    call.close();
  });

  it('media echo forward sends the callee its own media back and drops the caller\'s; a re-offer with backwards turns it round', async () => {
    const call = await MediaCall.establish(relay, { offer: { 'media-echo': 'forward' } });
    const ssrcs = (r: { data: Buffer }[]): number[] => r.map((p) => p.data.readUInt32BE(8));
    call.callerSends(3, 0, 0xca11);
    call.calleeSends(2, 0, 0xec0);
    const echoed = await call.callee.waitFor(2);
    // What the caller sent first never arrives; the callee's own packets come back from the port it sent to.
    expect(ssrcs(echoed)).toEqual([0xec0, 0xec0]);
    expect(echoed.map((p) => p.port)).toEqual([call.toCallee.port, call.toCallee.port]);
    expect(call.caller.received).toEqual([]);
    await call.offer(undefined, { 'media-echo': 'backwards' });
    await call.answer();
    call.calleeSends(3, 2, 0xec0);
    call.callerSends(2, 3, 0xca11);
    const back = await call.caller.waitFor(2);
    expect(ssrcs(back)).toEqual([0xca11, 0xca11]);
    expect(back.map((p) => p.port)).toEqual([call.toCaller.port, call.toCaller.port]);
    expect(call.callee.received).toHaveLength(2);
    call.close();
  });

  it('selects the party by label (set with set-label) and refuses what it cannot match with rtpengine\'s texts', async () => {
    const call = await MediaCall.establish(relay);
    const err = async (extra: Record<string, unknown>): Promise<unknown> => (await relay.ng.request({ command: 'block media', ...extra }))['error-reason'];
    expect(await err({})).toBe('No call-id in message');
    expect(await err({ 'call-id': 'no-such-call' })).toBe('Unknown call-ID');
    expect(await err({ 'call-id': call.callId, 'from-tag': 'nobody' })).toBe('From-tag given, but no such tag exists');
    expect(await err({ 'call-id': call.callId, label: 'nobody' })).toBe('No monologue matching the given label');
    expect(await err({ 'call-id': call.callId, address: 'not-an-address' })).toBe('Failed to parse network address');
    expect(await err({ 'call-id': call.callId, address: '192.0.2.99' })).toBe('Failed to match address to any tag');
    await relay.ng.ok({ command: 'unblock media', 'call-id': call.callId, 'from-tag': 'callee', 'set-label': 'agent' });
    await relay.ng.ok({ command: 'block media', 'call-id': call.callId, label: 'agent' });
    const back = call.caller.received.length;
    call.calleeSends(3, 0);
    // The caller's media is not blocked.
    expect(seqs(await burst(call, 0, 2, (s) => audio(s, 0x1ab), 2))).toEqual([0, 1]);
    await relay.ng.ok({ command: 'unblock media', 'call-id': call.callId, label: 'agent' });
    call.calleeSends(2, 3);
    await call.caller.waitFor(back + 2);
    expect(seqs(call.caller.received.slice(back).map((r) => r.data))).toEqual([3, 4]);
    call.close();
  });

  it('start forwarding records the call into its pcap file until stop forwarding (stop recording leaves it running)', async () => {
    const call = await MediaCall.establish(relay);
    await relay.ng.ok({ command: 'start forwarding', 'call-id': call.callId, 'from-tag': 'caller' });
    await burst(call, 0, 3, (s) => audio(s, 0xf0d), 3);
    await relay.ng.ok({ command: 'stop recording', 'call-id': call.callId });
    await burst(call, 3, 3, (s) => audio(s, 0xf0d), 3);
    await relay.ng.ok({ command: 'stop forwarding', 'call-id': call.callId, 'from-tag': 'caller' });
    await burst(call, 6, 3, (s) => audio(s, 0xf0d), 3);
    await call.delete();
    expect(recordedSeqs(dir, call.callId)).toEqual([0, 1, 2, 3, 4, 5]);
    call.close();
  });

  it('pause recording writes nothing until start recording goes on in the same file', async () => {
    const call = await MediaCall.establish(relay);
    await relay.ng.ok({ command: 'start recording', 'call-id': call.callId });
    await burst(call, 0, 2, (s) => audio(s, 0xf0e), 2);
    await relay.ng.ok({ command: 'pause recording', 'call-id': call.callId });
    await burst(call, 2, 2, (s) => audio(s, 0xf0e), 2);
    await relay.ng.ok({ command: 'start recording', 'call-id': call.callId });
    await burst(call, 4, 2, (s) => audio(s, 0xf0e), 2);
    // `stop recording` with `pause` pauses as well.
    await relay.ng.ok({ command: 'stop recording', 'call-id': call.callId, flags: ['pause'] });
    await burst(call, 6, 2, (s) => audio(s, 0xf0e), 2);
    await relay.ng.ok({ command: 'start recording', 'call-id': call.callId });
    await burst(call, 8, 1, (s) => audio(s, 0xf0e), 1);
    await call.delete();
    expect(recordedSeqs(dir, call.callId)).toEqual([0, 1, 4, 5, 8]);
    call.close();
  });

  it('counts what media control changed in /metrics', async () => {
    const counts = async (): Promise<(number | undefined)[]> => {
      const samples = parseExposition(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
      return ['blocked', 'silenced', 'dtmf_blocked'].map((action) => valueOf(samples, 'ngrelay_media_control_packets_total', { action }));
    };
    // The bursts above: 5 + 2 + 1 + 3 blocked, 10 silenced, 3 + 2 + 2 + 2 events dropped or rewritten.
    // A media thread's counters reach the scrape a moment after its packets: wait for them, then compare exactly.
    const want = [11, 10, 9];
    await waitFor('the counts to settle', async () => JSON.stringify(await counts()) === JSON.stringify(want), 3000).catch(() => undefined);
    expect(await counts()).toEqual(want);
  });
});
