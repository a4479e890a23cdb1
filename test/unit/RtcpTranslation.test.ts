import { ReceivedStream } from '../../src/media/engine/ReceivedStream.js';
import { describe, expect, it } from 'vitest';
import { ConvertedStream, translateRtcp } from '../../src/media/engine/RtcpTranslation.js';

function rtp(seq: number, ts: number, ssrc: number, payload = 160): Buffer {
  const p = Buffer.alloc(12 + payload);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ts, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

/** An RR from `ssrc` with one block about `about`, then an SDES chunk. */
function rrAndSdes(ssrc: number, about: number): Buffer {
  const p = Buffer.alloc(32 + 12);
  p[0] = 0x81;
  p[1] = 201;
  p.writeUInt16BE(7, 2);
  p.writeUInt32BE(ssrc, 4);
  p.writeUInt32BE(about, 8);
  p.writeUInt32BE(0x05000001, 12);
  p.writeUInt32BE(7, 16);
  p[32] = 0x81;
  p[33] = 202;
  p.writeUInt16BE(2, 34);
  p.writeUInt32BE(ssrc, 36);
  return p;
}

describe('RTCP of a converted stream', () => {
  it('counts loss and the extended highest sequence number across a wrap', () => {
    const s = new ConvertedStream(0xaaaa, new ReceivedStream());
    for (const seq of [65534, 65535, 1, 2]) s.input.received(rtp(seq, 0, 7), 172);
    expect([s.inSsrc, s.inPackets, s.highestSeq, s.lost]).toEqual([7, 4, 0x10002, 1]);
    // A new source starts the count afresh.
    s.input.received(rtp(500, 0, 8), 172);
    expect([s.inSsrc, s.inPackets, s.highestSeq, s.lost]).toEqual([8, 1, 500, 0]);
  });

  it('rewrites the reporter SSRC, the block about the converted stream and every chunk header of a compound packet', () => {
    const own = new ConvertedStream(0x1111, new ReceivedStream());
    own.input.received(rtp(10, 0, 0x5), 172);
    const peer = new ConvertedStream(0x2222, new ReceivedStream());
    for (const seq of [100, 101, 103]) peer.input.received(rtp(seq, 0, 0x6), 172);
    const p = rrAndSdes(0x5, 0x2222);
    expect(translateRtcp(p, p.length, own, peer)).toBe(true);
    expect([p.readUInt32BE(4), p.readUInt32BE(8), p[12], p.readUIntBE(13, 3), p.readUInt32BE(16), p.readUInt32BE(36)]).toEqual([0x1111, 0x6, 64, 1, 103, 0x1111]);
    // A block about another stream and another reporter are left alone.
    const q = rrAndSdes(0x9, 0x3333);
    expect(translateRtcp(q, q.length, own, peer)).toBe(true);
    expect(q).toEqual(rrAndSdes(0x9, 0x3333));
  });

  it('refuses what is not RTCP or runs past its end, and stops on any length', () => {
    const own = new ConvertedStream(1, new ReceivedStream());
    own.input.received(rtp(1, 0, 2), 172);
    const p = rrAndSdes(2, 3);
    expect(translateRtcp(p, p.length - 1, own, null)).toBe(false);
    p[32] = 0x41;
    expect(translateRtcp(p, p.length, own, null)).toBe(false);
    for (let n = 0; n < 44; n++) translateRtcp(rrAndSdes(2, 3), n, own, own);
  });
});
