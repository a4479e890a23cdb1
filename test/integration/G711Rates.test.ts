import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcmaDecoder, PcmaEncoder } from '../../src/media/codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../../src/media/codecs/Pcmu.js';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { readSdp } from '../helpers/sdp.js';
import { hear, sdp, type Side } from '../helpers/tones.js';

describe('G.711 at an RTP clock other than 8000 (PCMU/16000), converted as rtpengine converts it', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({});
  });
  afterAll(async () => {
    await relay?.stop();
  });

  it('PCMU/16000 offer with transcode PCMA, answered PCMA: tones arrive both ways, counted on from the sender\'s first timestamp', async () => {
    const caller = await RtpEndpoint.open();
    const callee = await RtpEndpoint.open();
    const common = { 'call-id': 'pcmu16k', 'from-tag': 'A', replace: ['origin'] };
    const o = await relay.ng.ok({ ...common, command: 'offer', sdp: sdp(caller.port, [[100, 'PCMU/16000']]), codec: { transcode: ['PCMA'] }, flags: ['always transcode'] });
    const toCallee = readSdp(o['sdp'] as string);
    expect(toCallee.lines).toContain('a=rtpmap:8 PCMA/8000');
    const a = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'B', sdp: sdp(callee.port, [[8, 'PCMA/8000']]) });
    const toCaller = readSdp(a['sdp'] as string);
    expect(toCaller.lines).toContain('a=rtpmap:100 PCMU/16000');
    const from: Side = { ep: caller, relayPort: toCaller.medias[0]!.port, pt: 100, enc: new PcmuEncoder(16000), dec: new PcmuDecoder(16000), clock: 16000 };
    const to: Side = { ep: callee, relayPort: toCallee.medias[0]!.port, pt: 8, enc: new PcmaEncoder(), dec: new PcmaDecoder(), clock: 8000 };
    const ab = await hear(from, to, 1000, 1, 30, true);
    const ba = await hear(to, from, 3000, 2, 30, true);
    expect(ab.packets).toBeGreaterThanOrEqual(45);
    expect(ba.packets).toBeGreaterThanOrEqual(45);
    // The first converted packet keeps the sender's sequence number and timestamp, whatever the clocks.
    expect([ab.first, ba.first]).toEqual([[100, 5000], [100, 5000]]);
    await relay.ng.ok({ command: 'delete', 'call-id': 'pcmu16k', 'from-tag': 'A' });
    caller.close();
    callee.close();
  });
});
