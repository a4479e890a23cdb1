import { describe, expect, it } from 'vitest';
import { Call } from '../../src/call/Call.js';
import { Media } from '../../src/call/Media.js';
import { Stream } from '../../src/call/Stream.js';
import { PortPool } from '../../src/media/PortPool.js';
import type { LocalAddress } from '../../src/media/LocalInterface.js';
import { decodeCall, encodeCall, RecordError, RECORD_VERSION, srtpStateOf, type StreamRecord } from '../../src/store/CallRecord.js';

const local: LocalAddress = { name: 'pub1', address: '127.0.0.1', advertised: '192.0.2.1', family: 4, pool: new PortPool('127.0.0.1', 4, 30000, 30099) };

function twoPartyCall(): Call {
  const call = new Call('rec-1', 1_795_000_000_123);
  call.ownerId = 'relay-a:22222';
  call.generation = 2;
  call.createdFrom = '127.0.0.1:5060';
  const a = call.addMonologue('A', call.created, 'pub1');
  const b = call.addMonologue('B', call.created, 'pub1');
  for (const [ml, port, sdpPort] of [[a, 30000, 45000], [b, 30010, 46000]] as const) {
    const m = new Media(1);
    m.formats = ['0', '101'];
    m.codecs = ['PCMU/8000', 'telephone-event/8000'];
    m.sdpAddress = '127.0.0.2';
    m.sdpRtpPort = sdpPort;
    m.sdpRtcpPort = sdpPort + 1;
    m.muxInAnswer = ml === a ? true : null;
    m.rtp = new Stream(1, local, port);
    m.rtcp = new Stream(2, local, port + 1);
    ml.medias.push(m);
  }
  a.peer = b;
  b.peer = a;
  return call;
}

describe('CallRecord', () => {
  it('encodes what a standby needs and decodes it back', () => {
    const rec = decodeCall(encodeCall(twoPartyCall(), 3));
    expect(rec).toMatchObject({ version: RECORD_VERSION, callId: 'rec-1', owner: 'relay-a:22222', generation: 2, db: 3, created: 1_795_000_000_123, createdFrom: '127.0.0.1:5060' });
    expect(rec.parties.map((p) => [p.tag, p.peer, p.pending, p.interface])).toEqual([
      ['A', 'B', false, 'pub1'],
      ['B', 'A', false, 'pub1'],
    ]);
    const media = rec.parties[0]!.medias[0]!;
    expect(media).toMatchObject({ index: 1, type: 'audio', protocol: 'RTP/AVP', formats: ['0', '101'], muxInAnswer: true, sdp: { address: '127.0.0.2', rtp: 45000, rtcp: 45001 } });
    expect(rec.parties[1]!.medias[0]!.muxInAnswer).toBeNull();
    // No socket bound: the stream is still recorded with its interface, address and port.
    expect(media.streams).toEqual([
      { component: 1, interface: 'pub1', address: '127.0.0.1', family: 4, port: 30000, endpoint: null },
      { component: 2, interface: 'pub1', address: '127.0.0.1', family: 4, port: 30001, endpoint: null },
    ]);
  });

  it('carries ICE towards a party: both sides\' credentials, the relay\'s role and lite side', () => {
    const call = twoPartyCall();
    const w = call.monologues.get('A')!.medias[0]!.webrtc;
    w.ourIce = { ufrag: 'ourufrag', pwd: 'ourpassword0123456789abcd' };
    w.icePeer = { ufrag: 'peer', pwd: 'peerpassword0123456789ab' };
    w.iceControlling = true;
    const rec = decodeCall(encodeCall(call, 1));
    expect(rec.parties[0]!.medias[0]!.ice).toEqual({ ufrag: 'ourufrag', pwd: 'ourpassword0123456789abcd', peer: { ufrag: 'peer', pwd: 'peerpassword0123456789ab' }, controlling: true });
    expect(rec.parties[1]!.medias[0]!.ice).toBeUndefined();
  });

  it('refuses records it cannot trust, saying why', () => {
    const good = JSON.parse(encodeCall(twoPartyCall(), 1)) as Record<string, unknown>;
    const bad = (f: (r: Record<string, unknown>) => void): string => {
      const r = structuredClone(good);
      f(r);
      return JSON.stringify(r);
    };
    expect(() => decodeCall('{not json')).toThrow(new RecordError('not JSON'));
    expect(() => decodeCall('[]')).toThrow('not an object');
    expect(() => decodeCall(bad((r) => (r['version'] = 99)))).toThrow('unknown record version 99');
    expect(() => decodeCall(bad((r) => delete r['owner']))).toThrow('owner is not a string');
    expect(() =>
      decodeCall(bad((r) => ((r['parties'] as { medias: { streams: { port: number }[] }[] }[])[0]!.medias[0]!.streams[0]!.port = 70000))),
    ).toThrow('stream port 70000 out of range');
  });

  it('carries the SRTP indices of each stream, and reads back only well-formed ones', () => {
    const call = twoPartyCall();
    const st = [...call.monologues.values()][0]!.medias[0]!.rtp!;
    const state = { recv: [{ ssrc: 0x2222, roc: 2, seq: 8019, rtcp: -1 }], send: [{ ssrc: 0x1111, roc: 2, seq: 8019, rtcp: 41 }] };
    st.recordSrtp = state;
    const rec = decodeCall(encodeCall(call, 1));
    const [rtp, rtcp] = rec.parties[0]!.medias[0]!.streams as [StreamRecord, StreamRecord];
    expect(rtp.srtp).toEqual(state);
    expect(srtpStateOf(rtp)).toEqual(state);
    // None yet: no field, and nothing to restore.
    expect('srtp' in rtcp).toBe(false);
    expect(srtpStateOf(rtcp)).toBeNull();
    const hostile = { ...rtp, srtp: { recv: [{ ssrc: -1, roc: 1, seq: 1, rtcp: 0 }, { ssrc: 5, roc: 1, seq: 70000, rtcp: 0 }, 'x', { ssrc: 6, roc: 3, seq: 9, rtcp: -1 }], send: 'no' } } as unknown as StreamRecord;
    expect(srtpStateOf(hostile)).toEqual({ recv: [{ ssrc: 6, roc: 3, seq: 9, rtcp: -1 }], send: [] });
    const many = { ...rtp, srtp: { recv: Array.from({ length: 1000 }, (_, i) => ({ ssrc: i, roc: 0, seq: 0, rtcp: -1 })), send: [] } } as StreamRecord;
    expect(srtpStateOf(many)!.recv).toHaveLength(64);
  });
});
