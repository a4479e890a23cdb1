import { describe, expect, it } from 'vitest';
import { codecNames, parseSdp, SdpIncompleteError, SdpParseError } from '../../src/sdp/SessionDescription.js';
import { rewriteSdp, type RewriteOptions } from '../../src/sdp/rewrite.js';

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

const OFFER = [
  'v=0',
  'o=uac 395173723 1 IN IP4 127.0.0.2',
  's=e2e',
  'c=IN IP4 127.0.0.2',
  't=0 0',
  'm=audio 45000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=ice-ufrag:5627ouzr',
  'a=ice-pwd:57cttqv287909qipk4ouwr1f',
  'a=candidate:1 1 UDP 2130706431 127.0.0.2 45000 typ host',
  'a=candidate:1 2 UDP 2130706430 127.0.0.2 45001 typ host',
  'a=sendrecv',
];

function opts(over: Partial<RewriteOptions> = {}): RewriteOptions {
  return {
    address: '127.0.0.1',
    family: 4,
    replaceOrigin: false,
    removeIce: true,
    rtcpAttribute: 'short',
    medias: [{ kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40001, rtcpMux: false }],
    ...over,
  };
}

describe('parseSdp', () => {
  it('reads session and media connection, ports, formats, direction, rtpmap and ICE', () => {
    const sd = parseSdp(crlf(OFFER));
    expect(sd.connection).toEqual({ family: 4, address: '127.0.0.2' });
    expect(sd.medias).toHaveLength(1);
    const m = sd.medias[0]!;
    expect(m).toMatchObject({ type: 'audio', port: 45000, protocol: 'RTP/AVP', formats: ['0', '101'], direction: 'sendrecv', hasIce: true, rtcpMux: false });
    expect(codecNames(m)).toEqual(['PCMU/8000', 'telephone-event/8000']);
  });

  it('accepts LF-only input and trailing blank lines', () => {
    const sd = parseSdp(OFFER.join('\n') + '\n\n');
    expect(sd.medias[0]!.port).toBe(45000);
    expect(sd.sessionLines[0]).toBe('v=0');
  });

  it('reads a=rtcp, a=rtcp-mux, media-level c=, IPv6 and static payload names', () => {
    const sd = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP6 ::1', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 8 0', 'c=IN IP6 2001:db8::5', 'a=rtcp:5009', 'a=rtcp-mux', 'a=recvonly']));
    const m = sd.medias[0]!;
    expect(m.connection).toEqual({ family: 6, address: '2001:db8::5' });
    expect(m).toMatchObject({ rtcpPort: 5009, rtcpMux: true, direction: 'recvonly' });
    expect(codecNames(m)).toEqual(['PCMA/8000', 'PCMU/8000']);
  });

  it('reads a=rtcp on the RTP port as rtcp-mux, as rtpengine does, but not trickle ICE\'s port 9 placeholder', () => {
    const on = (port: number, rtcp: string, c = 'c=IN IP4 192.0.2.1'): boolean => parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', c, 't=0 0', `m=audio ${port} RTP/SAVP 0`, rtcp])).medias[0]!.rtcpMux;
    expect(on(4328, 'a=rtcp:4328 IN IP4 192.0.2.1')).toBe(true);
    expect(on(4328, 'a=rtcp:4329')).toBe(false);
    expect(on(9, 'a=rtcp:9 IN IP4 0.0.0.0', 'c=IN IP4 0.0.0.0')).toBe(false);
  });

  it('keeps a rejected m= line (port 0) that has no c= at all', () => {
    const sd = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 0 RTP/AVP 0']));
    expect(sd.medias[0]!.port).toBe(0);
  });

  it('throws SdpParseError for malformed input', () => {
    const bad = [
      '',
      'garbage',
      'o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n',
      crlf(['v=0', 'c=IN IP4 not-an-address', 'm=audio 1 RTP/AVP 0']),
      crlf(['v=0', 'c=IN IP5 1.2.3.4', 'm=audio 1 RTP/AVP 0']),
      crlf(['v=0', 'c=IN IP4 1.2.3.4', 'm=audio port RTP/AVP 0']),
      crlf(['v=0', 'c=IN IP4 1.2.3.4', 'm=audio 70000 RTP/AVP 0']),
      crlf(['v=0', 'c=IN IP4 1.2.3.4', 'm=audio 1 RTP/AVP 0', 'a=rtcp:x']),
      crlf(['v=0', 'c=IN IP4 1.2.3.4', 'this is not sdp']),
    ];
    for (const text of bad) expect(() => parseSdp(text), JSON.stringify(text)).toThrow(SdpParseError);
  });

  it('throws SdpIncompleteError when a live media section has no address', () => {
    expect(() => parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0']))).toThrow(SdpIncompleteError);
  });
});

describe('rewriteSdp', () => {
  it('rewrites session c=, the m= port, adds a=rtcp and removes ICE, keeping o= without replace origin', () => {
    expect(rewriteSdp(parseSdp(crlf(OFFER)), opts())).toBe(crlf([
      'v=0',
      'o=uac 395173723 1 IN IP4 127.0.0.2',
      's=e2e',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 40000 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=sendrecv',
      'a=rtcp:40001',
      'a=ptime:20',
    ]));
  });

  it('changes o= with replace origin', () => {
    const out = rewriteSdp(parseSdp(crlf(OFFER)), opts({ replaceOrigin: true }));
    expect(out.split('\r\n')[1]).toBe('o=uac 395173723 1 IN IP4 127.0.0.1');
  });

  it('keeps ICE lines when not asked to remove them', () => {
    const out = rewriteSdp(parseSdp(crlf(OFFER)), opts({ removeIce: false }));
    expect(out).toContain('a=ice-ufrag:5627ouzr\r\n');
    expect(out).toContain('a=candidate:1 1 UDP 2130706431 127.0.0.2 45000 typ host\r\n');
  });

  it('replaces an existing a=rtcp, in short or full form, or drops it', () => {
    const sd = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtcp:4005 IN IP4 192.0.2.1', 'a=sendrecv']));
    expect(rewriteSdp(sd, opts())).toBe(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=rtcp:40001']));
    expect(rewriteSdp(sd, opts({ rtcpAttribute: 'full' }))).toContain('a=sendrecv\r\na=rtcp:40001 IN IP4 127.0.0.1\r\n');
    expect(rewriteSdp(sd, opts({ rtcpAttribute: 'none' }))).not.toContain('a=rtcp');
  });

  it('rewrites media-level c= and handles audio + video, keeping a rejected m= at port 0', () => {
    const sd = parseSdp(crlf([
      'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0',
      'm=audio 4000 RTP/AVP 0', 'c=IN IP4 192.0.2.1', 'a=sendrecv',
      'm=video 4002 RTP/AVP 96', 'c=IN IP4 192.0.2.1', 'a=rtpmap:96 H264/90000',
      'm=video 0 RTP/AVP 97', 'c=IN IP4 192.0.2.1', 'a=rtpmap:97 VP8/90000',
    ]));
    const out = rewriteSdp(sd, opts({
      medias: [
        { kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40001, rtcpMux: false },
        { kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40010, rtcpPort: 40011, rtcpMux: false },
        { kind: 'rejected' },
      ],
    }));
    expect(out).toBe(crlf([
      'v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0',
      'm=audio 40000 RTP/AVP 0', 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=rtcp:40001',
      'm=video 40010 RTP/AVP 96', 'c=IN IP4 127.0.0.1', 'a=rtpmap:96 H264/90000', 'a=sendrecv', 'a=rtcp:40011',
      'm=video 0 RTP/AVP 97', 'c=IN IP4 127.0.0.1', 'a=rtpmap:97 VP8/90000',
    ]));
  });

  it('puts another transport on the m= line when asked', () => {
    const out = rewriteSdp(parseSdp(crlf(OFFER)), opts({ medias: [{ kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40001, rtcpMux: false, protocol: 'RTP/AVPF' }] }));
    expect(out).toContain('\r\nm=audio 40000 RTP/AVPF 0 101\r\n');
  });

  it('writes IPv6 addresses with IP6', () => {
    const out = rewriteSdp(parseSdp(crlf(OFFER)), opts({
      address: '::1', family: 6, replaceOrigin: true,
      medias: [{ kind: 'relay', nullAddress: false, address: '::1', family: 6, rtpPort: 40000, rtcpPort: 40001, rtcpMux: false }],
    }));
    expect(out).toContain('\r\no=uac 395173723 1 IN IP6 ::1\r\n');
    expect(out).toContain('\r\nc=IN IP6 ::1\r\n');
  });

  it('adds a=rtcp-mux when muxing and keeps it only then', () => {
    const sd = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtcp-mux']));
    expect(rewriteSdp(sd, opts({ medias: [{ kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40000, rtcpMux: true }] })))
      .toContain('m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:40000\r\na=rtcp-mux\r\n');
    expect(rewriteSdp(sd, opts())).not.toContain('a=rtcp-mux');
    const plain = parseSdp(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 4000 RTP/AVP 0']));
    expect(rewriteSdp(plain, opts({ medias: [{ kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40001, rtcpMux: true }] })))
      .toBe(crlf(['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=rtcp:40001', 'a=rtcp-mux']));
  });

  // Inputs sent to the Debian rtpengine 10.5 daemon and its outputs, ports replaced.
  it("orders attributes as rtpengine 10.5 does: others first, then codecs, direction, rtcp, ptime", () => {
    const one = parseSdp(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 'c=IN IP4 127.0.0.5', 't=0 0', 'm=audio 4000 RTP/AVP 8 0 101', 'b=AS:64',
      'a=foo:bar', 'a=rtpmap:101 telephone-event/8000', 'a=maxptime:40', 'a=fmtp:101 0-15', 'a=ptime:20']));
    expect(rewriteSdp(one, opts())).toBe(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 8 0 101', 'b=AS:64',
      'a=foo:bar', 'a=maxptime:40', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
      'a=sendrecv', 'a=rtcp:40001', 'a=ptime:20']));

    const two = parseSdp(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 't=0 0', 'm=audio 4000 RTP/AVP 96 101', 'c=IN IP4 127.0.0.5',
      'a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/48000', 'a=fmtp:96 useinbandfec=1', 'a=fmtp:101 0-15', 'a=rtcp-fb:96 nack',
      'a=rtcp-mux', 'a=recvonly', 'a=mid:0']));
    expect(rewriteSdp(two, opts({ medias: [{ kind: 'relay', nullAddress: false, address: '127.0.0.1', family: 4, rtpPort: 40000, rtcpPort: 40001, rtcpMux: true }] }))).toBe(crlf([
      'v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 't=0 0', 'm=audio 40000 RTP/AVP 96 101', 'c=IN IP4 127.0.0.1', 'a=mid:0',
      'a=rtpmap:96 opus/48000/2', 'a=fmtp:96 useinbandfec=1', 'a=rtcp-fb:96 nack', 'a=rtpmap:101 telephone-event/48000', 'a=fmtp:101 0-15',
      'a=recvonly', 'a=rtcp:40001', 'a=rtcp-mux']));

    // A session-level direction moves into the media section.
    const three = parseSdp(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 'c=IN IP4 127.0.0.5', 't=0 0', 'a=sendonly', 'm=audio 4000 RTP/AVP 0', 'a=x-custom']));
    expect(rewriteSdp(three, opts())).toBe(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40000 RTP/AVP 0',
      'a=x-custom', 'a=rtpmap:0 PCMU/8000', 'a=sendonly', 'a=rtcp:40001']));
  });

  it("adds a=sendrecv where the input had no direction, unless told 'original sendrecv'", () => {
    const sd = parseSdp(crlf(['v=0', 'o=x 1 1 IN IP4 127.0.0.5', 's=x', 'c=IN IP4 127.0.0.5', 't=0 0', 'm=audio 4000 RTP/AVP 0']));
    expect(rewriteSdp(sd, opts())).toContain('a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:40001\r\n');
    expect(rewriteSdp(sd, opts({ originalSendrecv: true }))).toContain('a=rtpmap:0 PCMU/8000\r\na=rtcp:40001\r\n');
  });

  it('writes CRLF whatever the input line ends were', () => {
    const lf = rewriteSdp(parseSdp(OFFER.join('\n') + '\n'), opts());
    const mixed = rewriteSdp(parseSdp(OFFER.join('\r\n').replace('\r\ns=', '\ns=') + '\n'), opts());
    const noFinal = rewriteSdp(parseSdp(OFFER.join('\r\n')), opts());
    const want = rewriteSdp(parseSdp(crlf(OFFER)), opts());
    expect(lf).toBe(want);
    expect(mixed).toBe(want);
    expect(noFinal).toBe(want);
    expect(want.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});
