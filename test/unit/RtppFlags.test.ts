import { describe, expect, it } from 'vitest';
import { parseOfferAnswer } from '../../src/ng/flags.js';
import { NgRequest, type NgDict } from '../../src/ng/NgRequest.js';
import { parseRtppFlags } from '../../src/ng/rtppFlags.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n';
const BASE: NgDict = { command: 'offer', 'call-id': 'c', 'from-tag': 'f', sdp: SDP };

/** The same request with its flags as one string, and as dictionary keys and flags. */
const SAME: readonly [rtpp: string, dict: NgDict][] = [
  ['replace-origin replace-session-connection ICE=remove', { replace: ['origin', 'session-connection'], ICE: 'remove' }],
  ['trust-address symmetric RTP/AVP', { flags: ['trust-address', 'symmetric'], 'transport-protocol': 'RTP/AVP' }],
  ['SRTP AVPF', { 'transport-protocol': 'RTP/SAVPF' }],
  ['DTLS AVPF', { 'transport-protocol': 'UDP/TLS/RTP/SAVPF' }],
  ['codec-strip-PCMA transcode=opus codec-mask=PCMU', { flags: ['codec-strip-PCMA', 'transcode-opus', 'codec-mask-PCMU'] }],
  ['codec=[transcode=[PCMA G722] strip=[PCMU] accept=[all]]', { codec: { transcode: ['PCMA', 'G722'], strip: ['PCMU'], accept: ['all'] } }],
  ['transcode=[PCMA opus]', { codec: { transcode: ['PCMA', 'opus'] } }],
  ['direction=pub1 direction=pub2', { direction: ['pub1', 'pub2'] }],
  ['internal external', { direction: ['internal', 'external'] }],
  [
    'label=callee media-address=192.0.2.9 address-family=IP6 endpoint-learning=heuristic strict-source SDES=[off] DTLS=passive rtcp-mux=[demux offer] ptime=30 record-call=yes',
    { label: 'callee', 'media-address': '192.0.2.9', 'address-family': 'IP6', 'endpoint-learning': 'heuristic', flags: ['strict-source'], SDES: ['off'], DTLS: 'passive', 'rtcp-mux': ['demux', 'offer'], ptime: '30', 'record-call': 'yes' },
  ],
  ['  SIP-source-address  received-from=[IP4 203.0.113.7]  loop-protect ', { flags: ['SIP-source-address', 'loop-protect'], 'received-from': ['IP4', '203.0.113.7'] }],
];

describe('rtpp-flags', () => {
  it('reads the forms of rtpengine\'s examples: flags, keys, lists, nested dictionaries', () => {
    expect(parseRtppFlags('replace-origin via-branch=auto-next strict-source label=callee OSRTP-accept transport-protocol=RTP/AVP address-family=IP4')).toEqual({
      keys: [['via-branch', 'auto-next'], ['label', 'callee'], ['transport-protocol', 'RTP/AVP'], ['address-family', 'IP4']],
      flags: ['replace-origin', 'strict-source', 'OSRTP-accept'],
    });
    const nested = parseRtppFlags('via-branch=auto-next OSRTP=[accept] codec=[transcode=[PCMA PCMU] accept=[AMR-WB AMR] strip=[EVS]]');
    expect(nested.keys[1]).toEqual(['OSRTP', ['accept']]);
    expect(nested.keys[2]![1]).toEqual({ transcode: ['PCMA', 'PCMU'], accept: ['AMR-WB', 'AMR'], strip: ['EVS'] });
    expect(parseRtppFlags('to-tag=xyz fatal')).toEqual({ keys: [['to-tag', 'xyz']], flags: ['to-tag', 'fatal'] });
  });

  for (const [rtpp, dict] of SAME) {
    it(`gives the offer the same options as the dictionary form: ${rtpp.trim()}`, () => {
      const fromString = parseOfferAnswer(new NgRequest({ ...BASE, 'rtpp-flags': rtpp }, '127.0.0.1:1'), 'offer');
      const fromDict = parseOfferAnswer(new NgRequest({ ...BASE, ...dict }, '127.0.0.1:1'), 'offer');
      expect(fromString).toEqual(fromDict);
      // And it is not the options of a request without them.
      expect(fromString).not.toEqual(parseOfferAnswer(new NgRequest(BASE, '127.0.0.1:1'), 'offer'));
    });
  }

  it('lets a key of the dictionary win over the same key in the string (rtpp_flags spelling too)', () => {
    const req = new NgRequest({ ...BASE, ICE: 'force', rtpp_flags: 'ICE=remove replace-origin' }, '127.0.0.1:1');
    const o = parseOfferAnswer(req, 'offer');
    expect(o.webrtc.ice).toBe('force');
    expect([...o.replace]).toEqual(['origin']);
  });

  it('takes hostile strings in linear time without throwing: deep, unbalanced, empty brackets, lone equals', () => {
    const deep = `codec=${'['.repeat(20_000)}x${']'.repeat(20_000)} a`;
    expect(parseRtppFlags(deep).flags).toEqual(['a']);
    for (const s of ['[', ']', '=', '==x', 'a=[', 'a=[b=', 'a=[b=[c d', 'a=]]]] b', `${'x=[y '.repeat(10_000)}`, '\u0000 __proto__=1 constructor']) {
      const r = parseRtppFlags(s);
      expect(Array.isArray(r.keys) && Array.isArray(r.flags)).toBe(true);
    }
    const proto = new NgRequest({ ...BASE, 'rtpp-flags': '__proto__=[polluted=1] constructor=x' }, '127.0.0.1:1');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(proto.str('constructor')).toBe('x');
  });
});
