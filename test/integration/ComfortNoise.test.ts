import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseLevel } from '../../src/media/codecs/ComfortNoise.js';
import { PcmuDecoder } from '../../src/media/codecs/Pcmu.js';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { readSdp } from '../helpers/sdp.js';
import { sdp } from '../helpers/tones.js';

const PCMU: [number, string] = [0, 'PCMU/8000'];
const CN: [number, string] = [13, 'CN/8000'];
/** CN level (-dBov) the callee signals; packets of noise sent; the first ones ramp up (not measured). */
const LEVEL = 30;
const PACKETS = 25;
const RAMP = 5;

function rtp(pt: number, seq: number, ts: number, payload: Buffer): Buffer {
  const p = Buffer.alloc(12 + payload.length);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts, 4);
  p.writeUInt32BE(0x3456, 8);
  payload.copy(p, 12);
  return p;
}

/**
 * The caller has PCMU only, the callee PCMU and CN (added by transcode CN, as rtpengine's 'add CN'):
 * the callee's CN packets reach the caller as noise in PCMU, sent one at a time; the caller's
 * digital silence and then a loud packet reach the callee. Returns the packets each received.
 */
async function cnCall(relay: Relay, id: string): Promise<{ toCaller: Buffer[]; toCallee: Buffer[] }> {
  const caller = await RtpEndpoint.open();
  const callee = await RtpEndpoint.open();
  const common = { 'call-id': id, 'from-tag': 'A', replace: ['origin'] };
  const o = await relay.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port, [PCMU]), codec: { transcode: ['CN'] } });
  const calleeSdp = readSdp(o['sdp'] as string);
  const a = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port, [PCMU, CN]) });
  const callerSdp = readSdp(a['sdp'] as string);
  const callerSide = callerSdp.medias[0]!.port;
  const calleeSide = calleeSdp.medias[0]!.port;
  caller.send(rtp(0, 1000, 3000, Buffer.alloc(160, 0xff)), callerSide, '127.0.0.1');
  await callee.waitFor(1);
  callee.send(rtp(0, 2000, 4000, Buffer.alloc(160, 0xff)), calleeSide, '127.0.0.1');
  await caller.waitFor(1);
  for (let i = 1; i <= PACKETS; i++) {
    callee.send(rtp(13, 2000 + i, 4000 + 160 * i, Buffer.from([LEVEL])), calleeSide, '127.0.0.1');
    await caller.waitFor(1 + i);
  }
  // A re-INVITE from the caller that changes the conversion of the callee's packets: the noise goes on.
  await relay.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port, [PCMU, [8, 'PCMA/8000']]), codec: { transcode: ['CN'] } });
  callee.send(rtp(13, 2001 + PACKETS, 4000 + 160 * (PACKETS + 1), Buffer.from([LEVEL])), calleeSide, '127.0.0.1');
  await caller.waitFor(2 + PACKETS);
  // 0xff is PCMU's zero, 0x00 its most negative value.
  caller.send(rtp(0, 1001, 3160, Buffer.alloc(160, 0x00)), callerSide, '127.0.0.1');
  await callee.waitFor(2);
  const toCaller = caller.received.slice(1).map((r) => r.data);
  const toCallee = callee.received.map((r) => r.data);
  await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A' });
  caller.close();
  callee.close();
  return { toCaller, toCallee };
}

describe('comfort noise (RFC 3389) between a party with CN and one without', () => {
  let relay: Relay;
  let reference: Relay;
  beforeAll(async () => {
    // Silence becomes CN at 1 % of full scale (rtpengine's suite runs it so).
    const args = ['--silence-detect=1'];
    [relay, reference] = await Promise.all([Relay.start({ args }), Relay.start({ rtpengine: true, args })]);
  });
  afterAll(async () => {
    await Promise.all([relay?.stop(), reference?.stop()]);
  });

  it("CN packets reach the party without CN as noise in its codec (byte for byte rtpengine's, 6 dB under the signalled level); its silence reaches the other as CN", async () => {
    const [us, them] = await Promise.all([cnCall(relay, 'cn-noise'), cnCall(reference, 'cn-noise')]);
    const [ours, theirs] = [us.toCaller, them.toCaller];
    expect(ours.map((p) => [p[1]! & 0x7f, p.length])).toEqual(Array.from({ length: PACKETS + 1 }, () => [0, 172]));
    expect(ours.map((p) => p.subarray(12).toString('hex'))).toEqual(theirs.map((p) => p.subarray(12).toString('hex')));
    // libavcodec's decoder (rtpengine's) makes its noise 6 dB under the level the payload signals.
    const pcm = new Int16Array(160 * (PACKETS - RAMP));
    const dec = new PcmuDecoder();
    ours.slice(RAMP, PACKETS).forEach((p, i) => dec.decode(p, 12, 160, pcm.subarray(160 * i)));
    let sum = 0;
    for (const v of pcm) sum += v * v;
    const dBov = 10 * Math.log10(sum / pcm.length / (32767 * 32767));
    expect(dBov).toBeGreaterThan(-(LEVEL + 6) - 0.5);
    expect(dBov).toBeLessThan(-(LEVEL + 6) + 0.5);
    expect(noiseLevel(pcm, pcm.length)).toBe(LEVEL + 6);
    // Digital silence goes as a CN packet of level 32 (-32 dBov), a loud packet as audio.
    for (const got of [us.toCallee, them.toCallee]) {
      expect(got.map((p) => [p[1]! & 0x7f, p.readUInt32BE(4) - got[0]!.readUInt32BE(4), p.subarray(12).toString('hex').slice(0, 8)])).toEqual([[13, 0, '20'], [0, 160, '00000000']]);
    }
  });
});
