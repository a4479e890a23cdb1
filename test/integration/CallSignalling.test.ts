import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, streamsOf, uniqueCallId } from '../helpers/MediaCall.js';
import type { Dict } from '../helpers/NgClient.js';
import { quietRange } from '../helpers/ports.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { audioSdp } from '../helpers/sdp.js';
import { listTotalsValue, totalStatistics } from '../helpers/stats.js';

type Party = { medias: { type: string; codec?: string; flags: string[]; streams: unknown[] }[] };
const party = (q: Dict, tag: string): Party => (q['tags'] as Record<string, Party>)[tag]!;

/** A re-INVITE from the caller: audio moved to another socket with another codec, on hold, and video added. */
function movedWithVideo(address: string, audioPort: number, videoPort: number): string {
  return [
    'v=0', `o=test 1 2 IN IP4 ${address}`, 's=test', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${audioPort} RTP/AVP 8`, 'a=rtpmap:8 PCMA/8000', 'a=sendonly',
    `m=video ${videoPort} RTP/AVP 96`, 'a=rtpmap:96 H264/90000', 'a=sendrecv', '',
  ].join('\r\n');
}

describe('a re-offer the relay cannot carry out (ports run out)', () => {
  let relay: Relay;
  let portMin: number;
  beforeAll(async () => {
    // Room for exactly one audio call: two parties x RTP/RTCP.
    portMin = await quietRange(4);
    relay = await Relay.start({ portMin, portMax: portMin + 3, args: ['--delete-delay=0'] });
    // The media threads' first binds can be slow on a loaded machine: one call ahead, until it answers.
    const warm = uniqueCallId('warm');
    await waitFor('a first offer', async () => (await relay.ng.request({ command: 'offer', 'call-id': warm, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 4000) }).catch((): Dict => ({})))['result'] === 'ok', 30_000, 100);
    await relay.ng.ok({ command: 'delete', 'call-id': warm });
  }, 60_000);
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it("returns rtpengine's error and leaves the call exactly as it was", async () => {
    const call = await MediaCall.establish(relay);
    call.callerSends(3);
    call.calleeSends(3);
    await call.callee.waitFor(3);
    await call.caller.waitFor(3);
    const before = await call.query();
    const moved = await RtpEndpoint.open('127.0.0.1');

    const reply = await relay.ng.request({
      command: 'offer', 'call-id': call.callId, 'from-tag': 'caller', 'to-tag': 'callee',
      'received-from': ['IP4', '127.0.0.1'], sdp: movedWithVideo('127.0.0.1', moved.port, moved.port + 2),
    });
    expect(reply['result']).toBe('error');
    expect(reply['error-reason']).toBe('Ran out of ports');

    // The model: one audio media per party, the codec, direction and streams of before.
    const after = await call.query();
    for (const tag of ['caller', 'callee']) {
      expect(party(after, tag).medias.map((m) => [m.type, m.codec, m.flags])).toEqual(party(before, tag).medias.map((m) => [m.type, m.codec, m.flags]));
      expect(streamsOf(after, tag).map((s) => s['local port'])).toEqual(streamsOf(before, tag).map((s) => s['local port']));
    }
    expect(party(after, 'caller').medias).toHaveLength(1);
    expect(party(after, 'caller').medias[0]!.codec).toBe('PCMU/8000');
    expect(await relay.cli('list interfaces')).toContain('Ports used:     4 /     4');

    // Media: still between the original phones, both ways; nothing reaches the moved socket.
    call.callerSends(4, 10);
    call.calleeSends(4, 10);
    await call.callee.waitFor(7);
    await call.caller.waitFor(7);
    await sleep(100);
    expect(moved.received).toHaveLength(0);
    expect(call.caller.received.slice(3).map((p) => p.data.readUInt16BE(2))).toEqual([10, 11, 12, 13]);

    // And the call still takes a re-INVITE it can carry out.
    await call.reinvite(audioSdp('127.0.0.1', moved.port), audioSdp('127.0.0.1', call.callee.port));
    call.calleeSends(2, 20);
    await moved.waitFor(2);
    expect(moved.received.map((p) => p.data.readUInt16BE(2))).toEqual([20, 21]);
    await call.delete();
    call.close();
    moved.close();
    await waitFor('ports freed', async () => (await relay.cli('list interfaces')).includes('Ports used:     0 /     4'));
  });
});

describe('a call without streams (silent-timeout=2)', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--timeout=1', '--silent-timeout=2', '--offer-timeout=2', '--delete-delay=0', '--max-sessions=1'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const exists = async (callId: string): Promise<boolean> => (await relay.ng.request({ command: 'query', 'call-id': callId }))['result'] === 'ok';

  it('expires like any silent call, and no longer holds a session', async () => {
    const before = await totalStatistics(relay);
    const refused = uniqueCallId('refused');
    // Every m= line refused: the relay holds no port for it.
    await relay.ng.ok({ command: 'offer', 'call-id': refused, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 0) });
    // It is a session: max-sessions=1 refuses the next offer.
    const next = await relay.ng.request({ command: 'offer', 'call-id': uniqueCallId('next'), 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 4000) });
    expect(next['error-reason']).toBe('Parallel session limit reached');
    await waitFor(`${refused} to expire`, async () => !(await exists(refused)), 15_000, 100);
    const after = await totalStatistics(relay);
    expect(after.closedsessions - before.closedsessions).toBe(1);
    expect(after.silenttimeoutsessions - before.silenttimeoutsessions).toBe(1);
    expect(await listTotalsValue(relay, 'Total timed-out sessions via SILENT_TIMEOUT')).toBe(after.silenttimeoutsessions);
    expect(relay.output).toMatch(new RegExp(`"callId":"${refused}","reason":"silent_timeout"`));

    // Only non-RTP media (passed through, no ports): the same.
    const message = uniqueCallId('message');
    const sdp = ['v=0', 'o=test 1 1 IN IP4 127.0.0.1', 's=test', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=message 4010 TCP/MSRP *', 'a=accept-types:text/plain', ''].join('\r\n');
    await relay.ng.ok({ command: 'offer', 'call-id': message, 'from-tag': 'a', sdp });
    await waitFor(`${message} to expire`, async () => !(await exists(message)), 15_000, 100);
    expect((await totalStatistics(relay)).silenttimeoutsessions - after.silenttimeoutsessions).toBe(1);
  });
});
