import type { Kamailio } from './Kamailio.js';
import { MediaPair } from './MediaPair.js';
import type { SipMessage } from './SipMessage.js';
import { SipUserAgent } from './SipUserAgent.js';
import { audioSdp, readSdp } from './sdp.js';

export interface ShortCallResult {
  callId: string;
  /** The relay ports in the SDP bob got (offer) and the SDP alice got (answer). */
  offerPort: number;
  answerPort: number;
  /** RTP packets each phone got from the other. */
  heard: { alice: number; bob: number };
}

function mediaOf(msg: SipMessage): { address: string; rtpPort: number; rtcpPort: number } {
  const m = readSdp(msg.body).medias[0]!;
  return { address: m.address!, rtpPort: m.port, rtcpPort: m.rtcpPort ?? m.port + 1 };
}

/**
 * A short call through Kamailio: INVITE, 200, ACK, `packets` RTP packets each way through the
 * relay ports the phones were given, BYE. Phones' media on 127.0.0.2 (caller) and 127.0.0.3 (callee).
 */
export async function shortKamailioCall(kamailio: Kamailio, packets = 3): Promise<ShortCallResult> {
  const alice = await SipUserAgent.open('alice');
  const bob = await SipUserAgent.open('bob');
  const aMedia = await MediaPair.open('127.0.0.2', 0xa11ce);
  const bMedia = await MediaPair.open('127.0.0.3', 0xb0b);
  try {
    const inviting = alice.invite(`sip:bob@127.0.0.1:${bob.port}`, { address: '127.0.0.1', port: kamailio.sipPort }, audioSdp(aMedia.address, aMedia.port, { origin: 'alice' }));
    const invite = await bob.nextRequest('INVITE');
    const toBob = mediaOf(invite);
    bob.respond(invite, 200, audioSdp(bMedia.address, bMedia.port, { origin: 'bob' }));
    const ok = await inviting;
    if (ok.status !== 200) throw new Error(`INVITE got ${ok.status}`);
    const toAlice = mediaOf(ok);
    await bob.nextRequest('ACK');
    aMedia.send(packets, toAlice);
    bMedia.send(packets, toBob);
    const atBob = await bMedia.rtp.waitFor(packets);
    const atAlice = await aMedia.rtp.waitFor(packets);
    // Each phone hears the other, from the relay port it sends its own media to.
    const heard = {
      bob: atBob.filter((p) => p.data.readUInt32BE(8) === aMedia.ssrc && p.port === toBob.rtpPort && p.address === toBob.address).length,
      alice: atAlice.filter((p) => p.data.readUInt32BE(8) === bMedia.ssrc && p.port === toAlice.rtpPort && p.address === toAlice.address).length,
    };
    const bye = alice.request('BYE');
    await bob.answer('BYE', 200);
    const byeOk = await bye;
    if (byeOk.status !== 200) throw new Error(`BYE got ${byeOk.status}`);
    return { callId: invite.callId, offerPort: toBob.rtpPort, answerPort: toAlice.rtpPort, heard };
  } finally {
    for (const x of [alice, bob, aMedia, bMedia]) x.close();
  }
}
