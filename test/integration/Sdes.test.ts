import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputKeys, normaliseSdp, runSteps, type Step } from '../helpers/compareRtpengine.js';
import { Relay } from '../helpers/Relay.js';

const A_KEY = 'cJOJ7kxQjhFBp2fP6AYjs3vKw7CeBdWZCj0isbJv';
const A_KEY2 = 'VAzLKvoE3jG9cdH/AZsl/ZqWNXrUzyM4Gw6chrFr';
const A_KEY256 = '8AbZePWwsKhLGX3GlXA+yHYPQ3cgraer/9DkFJYCOPZZy3o9wC0NIbIFYZfyHw==';
const B_KEY = 'dfgadgdfgdfgdfgd6AYjs3vKw7CeBdWZCj0isbJv';

function sdp(ip: string, port: number, proto: string, extra: string[] = []): string {
  return ['v=0', `o=- 1545997027 1 IN IP4 ${ip}`, 's=tester', 't=0 0', `m=audio ${port} ${proto} 0 8`, `c=IN IP4 ${ip}`, 'a=sendrecv', ...extra, ''].join('\r\n');
}
const savpOffer = sdp('198.51.100.1', 2000, 'RTP/SAVP', [
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${A_KEY}`,
  `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${A_KEY2}`,
  `a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:${A_KEY256}`,
]);
const plainOffer = sdp('198.51.100.1', 2000, 'RTP/AVP');
const plainAnswer = sdp('198.51.100.3', 2002, 'RTP/AVP');
// PCMU only: what the browser offered (codec filtering of answers is not what these cases are about).
const pcmuAnswer = sdp('198.51.100.3', 2002, 'RTP/AVP').replace(' 0 8', ' 0');
const savpAnswer = (tag: number, suite: string): string => sdp('198.51.100.3', 2002, 'RTP/SAVP', [`a=crypto:${tag} ${suite} inline:${B_KEY}`]);

const osrtpOffer = sdp('198.51.100.1', 2000, 'RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${A_KEY}`]);
const osrtpAnswer = sdp('198.51.100.3', 2002, 'RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${B_KEY}`]);
const mkiOffer = sdp('198.51.100.1', 2000, 'RTP/SAVP', [
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${A_KEY}|2^20|1:4`,
  `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${A_KEY2}|1:32`,
  `a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:${A_KEY256}|2^60`,
]);

const BROWSER = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
  'm=audio 50000 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 127.0.0.1', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 DA:89:F7:04:38:D9:04:E1:9E:25:1A:43:87:8D:F5:BD:6E:4C:BB:88:12:A6:D5:FA:B1:4A:34:BC:32:C0:05:FE', 'a=setup:actpass', 'a=mid:0',
  'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10;useinbandfec=1', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

const base = { ICE: 'remove', DTLS: 'off', replace: ['origin'] };
const scenarios: [string, Step[]][] = [
  ['SAVP to SAVP: keys copied, other suites added', [
    { command: 'offer', sdp: savpOffer, flags: base },
    { command: 'answer', sdp: savpAnswer(1, 'AES_CM_128_HMAC_SHA1_80'), flags: { ICE: 'remove' } },
  ]],
  ['SAVP to SAVP, SDES-no and a generated suite taken', [
    { command: 'offer', sdp: savpOffer, flags: { ...base, SDES: ['no-AES_CM_128_HMAC_SHA1_32', 'no-F8_128_HMAC_SHA1_80'] } },
    { command: 'answer', sdp: savpAnswer(5, 'AEAD_AES_128_GCM'), flags: { ICE: 'remove' } },
  ]],
  ['SAVP to AVP', [
    { command: 'offer', sdp: savpOffer, flags: { ...base, 'transport-protocol': 'RTP/AVP', flags: ['SDES-no-AES_CM_128_HMAC_SHA1_80'] } },
    { command: 'answer', sdp: plainAnswer, flags: { ICE: 'remove' } },
  ]],
  ['AVP to SAVP', [
    { command: 'offer', sdp: plainOffer, flags: { ...base, 'transport-protocol': 'RTP/SAVP' } },
    { command: 'answer', sdp: savpAnswer(7, 'AES_CM_128_HMAC_SHA1_80'), flags: { ICE: 'remove' } },
  ]],
  ['AVP to SAVP, SDES-off', [
    { command: 'offer', sdp: plainOffer, flags: { ...base, 'transport-protocol': 'RTP/SAVP', flags: ['SDES-off'] } },
  ]],
  ['AVP to SAVP with DTLS (actpass and our fingerprint)', [
    { command: 'offer', sdp: plainOffer, flags: { 'transport-protocol': 'RTP/SAVP', ICE: 'remove' } },
  ]],
  ['AVP to UDP/TLS/RTP/SAVPF with ICE forced, SDES off', [
    { command: 'offer', sdp: plainOffer, flags: { 'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'force', 'rtcp-mux': ['offer'], flags: ['SDES-off'] } },
  ]],
  ['browser offer (DTLS, ICE, trickle, mid) to plain and back', [
    { command: 'offer', sdp: BROWSER, flags: { ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'rtcp-mux': ['demux'], DTLS: 'off' } },
    { command: 'answer', sdp: pcmuAnswer, flags: { ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF' } },
  ]],
  ['DTLS-reverse passive', [
    { command: 'offer', sdp: BROWSER, flags: { ICE: 'remove', 'transport-protocol': 'RTP/AVP', 'DTLS-reverse': 'passive' } },
    { command: 'answer', sdp: pcmuAnswer, flags: { ICE: 'remove' } },
  ]],
  ['OSRTP offer (crypto on RTP/AVP) accepted with the same suite', [
    { command: 'offer', sdp: osrtpOffer, flags: base },
    { command: 'answer', sdp: osrtpAnswer, flags: base },
  ]],
  ['OSRTP offer answered in plain RTP: plain back', [
    { command: 'offer', sdp: osrtpOffer, flags: base },
    { command: 'answer', sdp: plainAnswer, flags: base },
  ]],
  ['OSRTP offer answered in plain RTP with OSRTP-accept: SRTP back', [
    { command: 'offer', sdp: osrtpOffer, flags: base },
    { command: 'answer', sdp: plainAnswer, flags: { ...base, OSRTP: ['accept'] } },
  ]],
  ['OSRTP-offer from a plain offerer, accepted', [
    { command: 'offer', sdp: plainOffer, flags: { ...base, flags: ['OSRTP-offer'] } },
    { command: 'answer', sdp: sdp('198.51.100.3', 2002, 'RTP/AVP', [`a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${B_KEY}`]), flags: base },
  ]],
  ['SDES=static keeps the answer line across a re-offer', [
    { command: 'offer', sdp: savpOffer, flags: base },
    { command: 'answer', sdp: savpAnswer(1, 'AES_CM_128_HMAC_SHA1_80'), flags: {} },
    { command: 'offer', sdp: savpOffer, flags: base },
    { command: 'answer', sdp: savpAnswer(2, 'AES_CM_128_HMAC_SHA1_32'), flags: { SDES: ['static'] } },
  ]],
  ['SDES-lifetime and SDES-pad', [
    { command: 'offer', sdp: plainOffer, flags: { ...base, 'transport-protocol': 'RTP/SAVP', flags: ['SDES-lifetime', 'SDES-pad'] } },
  ]],
  ['key lifetimes and MKIs offered are kept, invalid ones dropped', [
    { command: 'offer', sdp: mkiOffer, flags: base },
    { command: 'answer', sdp: savpAnswer(2, 'AES_CM_128_HMAC_SHA1_32').replace(B_KEY, `${B_KEY}|2^31|7:2`), flags: {} },
  ]],
  ['DTLS-fingerprint sha-384, kept on a re-offer', [
    { command: 'offer', sdp: plainOffer, flags: { ICE: 'remove', 'transport-protocol': 'RTP/SAVP', SDES: ['off'], 'DTLS-fingerprint': 'sha-384' } },
    { command: 'offer', sdp: plainOffer, flags: { ICE: 'remove' } },
  ]],
  ['DTLS-fingerprint sha-512 and sha-224', [
    { command: 'offer', sdp: plainOffer, flags: { ICE: 'remove', 'transport-protocol': 'RTP/SAVP', 'DTLS-fingerprint': 'sha-512' } },
  ]],
  ['AVP to SAVPF with rtcp-mux', [
    { command: 'offer', sdp: plainOffer, flags: { ...base, 'transport-protocol': 'RTP/SAVPF', 'rtcp-mux': ['offer'] } },
  ]],
];

// SDES offers and answers as rtpengine 10.5 writes them: the same steps through both daemons.
describe('SRTP, DTLS and ICE SDP against rtpengine 10.5', () => {
  let ours: Relay;
  let theirs: Relay;
  beforeAll(async () => {
    [ours, theirs] = await Promise.all([Relay.start(), Relay.start({ rtpengine: true })]);
  });
  afterAll(async () => {
    await Promise.all([ours?.stop(), theirs?.stop()]);
  });

  for (const [name, steps] of scenarios) {
    it(name, async () => {
      const keys = inputKeys(steps);
      const id = `sdes-${name.replace(/\W+/g, '-')}`;
      const [a, b] = await Promise.all([runSteps(ours, id, steps), runSteps(theirs, id, steps)]);
      expect(a.map((s) => normaliseSdp(s, keys))).toEqual(b.map((s) => normaliseSdp(s, keys)));
    });
  }

  // rtpengine 10.5 does not know SDES-only (it logs "Unknown 'SDES' flag" and offers every
  // suite); ngrelay does what later rtpengine versions do: only the named suites are offered.
  it('SDES-only offers only the suites named, in rtpengine order', async () => {
    const [offer] = await runSteps(ours, 'sdes-only', [
      { command: 'offer', sdp: plainOffer, flags: { ...base, 'transport-protocol': 'RTP/SAVP', flags: ['SDES-only-AES_CM_128_HMAC_SHA1_32', 'SDES-only-AEAD_AES_128_GCM'] } },
    ]);
    expect(offer!.match(/^a=crypto:.*$/gm)!.map((l) => l.replace(/inline:\S+/, 'inline:K'))).toEqual([
      'a=crypto:1 AEAD_AES_128_GCM inline:K',
      'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:K',
    ]);
  });
});
