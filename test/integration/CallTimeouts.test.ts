import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, paced, uniqueCallId } from '../helpers/MediaCall.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp } from '../helpers/sdp.js';
import { listTotalsValue, totalStatistics } from '../helpers/stats.js';

async function exists(relay: Relay, callId: string): Promise<boolean> {
  const r = await relay.ng.request({ command: 'query', 'call-id': callId });
  return r['result'] === 'ok';
}

/** Waits until the sweep removed the call; returns how long that took after `since`. */
async function gone(relay: Relay, callId: string, since: number): Promise<number> {
  await waitFor(`call ${callId} to be closed`, async () => !(await exists(relay, callId)), 15_000, 100);
  return Date.now() - since;
}

describe('call timeouts (timeout=1, silent-timeout=2, offer-timeout=2)', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--timeout=1', '--silent-timeout=2', '--offer-timeout=2', '--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('timeout: an answered call without media is closed and counted under TIMEOUT', async () => {
    const before = await totalStatistics(relay);
    const call = await MediaCall.establish(relay);
    const took = await gone(relay, call.callId, Date.now());
    console.log(`timeout=1: call without media closed after ${took} ms`);
    const after = await totalStatistics(relay);
    expect(after.timeoutsessions - before.timeoutsessions).toBe(1);
    expect(after.closedsessions - before.closedsessions).toBe(1);
    expect(await listTotalsValue(relay, 'Total timed-out sessions via TIMEOUT')).toBe(after.timeoutsessions);
    expect(relay.output).toMatch(new RegExp(`"callId":"${call.callId}","reason":"timeout".*Closing call due to timeout`));
    call.close();
  });

  it('a call with media on just one stream is kept alive, and closes once that stream falls silent', async () => {
    const before = await totalStatistics(relay);
    const call = await MediaCall.establish(relay);
    // Only the caller talks, for three times the timeout.
    await paced(150, 50, (i) => call.caller.send(rtpPacket(i, 1), call.toCaller.port, '127.0.0.1'));
    expect(await exists(relay, call.callId)).toBe(true);
    expect(call.callee.received).toHaveLength(150);
    const took = await gone(relay, call.callId, Date.now());
    console.log(`timeout=1: call closed ${took} ms after its last packet`);
    expect((await totalStatistics(relay)).timeoutsessions - before.timeoutsessions).toBe(1);
    call.close();
  });

  it('RTCP alone keeps a call alive too', async () => {
    const call = await MediaCall.establish(relay);
    const rtcp = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 1]);
    await paced(30, 10, () => call.caller.send(rtcp, call.toCaller.rtcpPort!, '127.0.0.1'));
    expect(await exists(relay, call.callId)).toBe(true);
    await gone(relay, call.callId, Date.now());
    call.close();
  });

  it('silent-timeout: a held call (sendonly / recvonly) without media is closed under SILENT_TIMEOUT', async () => {
    const before = await totalStatistics(relay);
    const call = await MediaCall.establish(relay);
    await call.reinvite(audioSdp('127.0.0.1', call.caller.port, { direction: 'sendonly' }), audioSdp('127.0.0.1', call.callee.port, { direction: 'recvonly' }));
    const since = Date.now();
    // Past the plain timeout the held call is still there.
    await sleep(1500);
    expect(await exists(relay, call.callId)).toBe(true);
    const took = await gone(relay, call.callId, since);
    console.log(`silent-timeout=2: held call closed after ${took} ms`);
    const after = await totalStatistics(relay);
    expect(after.silenttimeoutsessions - before.silenttimeoutsessions).toBe(1);
    expect(after.timeoutsessions - before.timeoutsessions).toBe(0);
    expect(await listTotalsValue(relay, 'Total timed-out sessions via SILENT_TIMEOUT')).toBe(after.silenttimeoutsessions);
    call.close();
  });

  it('silent-timeout: an inactive call is closed under SILENT_TIMEOUT', async () => {
    const before = await totalStatistics(relay);
    const call = await MediaCall.open(relay);
    await call.offer(audioSdp('127.0.0.1', call.caller.port, { direction: 'inactive' }));
    await call.answer(audioSdp('127.0.0.1', call.callee.port, { direction: 'inactive' }));
    await gone(relay, call.callId, Date.now());
    expect((await totalStatistics(relay)).silenttimeoutsessions - before.silenttimeoutsessions).toBe(1);
    call.close();
  });

  it('offer-timeout: a call that is never answered is closed under OFFER_TIMEOUT', async () => {
    const before = await totalStatistics(relay);
    const callId = uniqueCallId('unanswered');
    await relay.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'caller', sdp: audioSdp('127.0.0.1', 30000) });
    const took = await gone(relay, callId, Date.now());
    console.log(`offer-timeout=2: unanswered call closed after ${took} ms`);
    const after = await totalStatistics(relay);
    expect(after.offertimeoutsessions - before.offertimeoutsessions).toBe(1);
    expect(after.timeoutsessions - before.timeoutsessions).toBe(0);
    expect(await listTotalsValue(relay, 'Total timed-out sessions via OFFER_TIMEOUT')).toBe(after.offertimeoutsessions);
  });

  it('frees the ports of timed-out calls', async () => {
    await waitFor('no calls', async () => (await relay.cli('list sessions all')).startsWith('No sessions'));
    expect(await relay.cli('list interfaces')).toMatch(/Ports used:\s+0 \//);
  });
});

describe('final-timeout', () => {
  it('closes a call with media flowing, counted under FINAL_TIMEOUT', async () => {
    const relay = await Relay.start({ args: ['--final-timeout=2', '--delete-delay=0'] });
    const call = await MediaCall.establish(relay);
    const since = Date.now();
    const sending = paced(200, 50, (i) => {
      call.caller.send(rtpPacket(i, 1), call.toCaller.port, '127.0.0.1');
      call.callee.send(rtpPacket(i, 2), call.toCallee.port, '127.0.0.1');
    });
    const took = await gone(relay, call.callId, since);
    await sending;
    console.log(`final-timeout=2: call closed ${took} ms after creation; ${call.callee.received.length} of 200 packets reached the callee`);
    const t = await totalStatistics(relay);
    expect(t.finaltimeoutsessions).toBe(1);
    expect(t.timeoutsessions).toBe(0);
    expect(await listTotalsValue(relay, 'Total timed-out sessions via FINAL_TIMEOUT')).toBe(1);
    // Media stopped with the call.
    expect(call.callee.received.length).toBeLessThan(200);
    call.close();
    expect(await relay.stop()).toBe(0);
  });
});

describe('delete-delay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=2'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('stops media at delete and frees the ports after the delay', async () => {
    const call = await MediaCall.establish(relay);
    call.callerSends(3);
    await call.callee.waitFor(3);
    const del = await call.delete();
    const deletedAt = Date.now();
    expect((del['totals'] as { RTP: { packets: number } }).RTP.packets).toBe(3);
    // Media stops at once.
    call.callerSends(3, 3);
    call.calleeSends(3);
    await sleep(200);
    expect(call.callee.received).toHaveLength(3);
    expect(call.caller.received).toHaveLength(0);
    // Still there, marked, ports held.
    expect(await relay.cli('list sessions all')).toContain('deletionmark: yes');
    expect(await relay.cli('list interfaces')).toMatch(/Ports used:\s+4 \//);
    await waitFor('ports freed', async () => /Ports used:\s+0 \//.test(await relay.cli('list interfaces')), 10_000, 100);
    console.log(`delete-delay=2: ports freed ${Date.now() - deletedAt} ms after delete`);
    expect(await relay.cli('list sessions all')).toBe('No sessions on this media relay.\n');
    const t = await totalStatistics(relay);
    expect(t.regularterminatedsessions).toBe(1);
    expect(t.closedsessions).toBe(1);
    call.close();
  });

  it('the delete-delay key of one delete overrides the option', async () => {
    const call = await MediaCall.establish(relay);
    await call.delete({ 'delete delay': 0 });
    expect(await relay.cli('list interfaces')).toMatch(/Ports used:\s+0 \//);
    expect(await exists(relay, call.callId)).toBe(false);
    call.close();
  });
});
