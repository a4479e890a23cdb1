import { describe, expect, it } from 'vitest';
import { BundleDemux } from '../../src/media/transforms/BundleDemux.js';

/** RTP header (12 bytes) with an optional RFC 8285 extension block given as raw bytes. */
function rtp(pt: number, ssrc: number, ext?: number[]): Buffer {
  const head = Buffer.from([ext ? 0x90 : 0x80, pt, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  head.writeUInt32BE(ssrc, 8);
  return Buffer.concat([head, Buffer.from(ext ?? []), Buffer.alloc(20)]);
}

const ID = 3;
const demux = (): BundleDemux<string> => new BundleDemux(ID, [
  { mid: 'a', payloadTypes: [111, 0], target: 'audio' },
  { mid: 'v1', payloadTypes: [96, 97], target: 'video' },
]);

describe('BundleDemux', () => {
  it('routes by the one-byte MID extension, skipping padding and other elements, and remembers the SSRC', () => {
    const d = demux();
    // 0xBEDE, 2 words: element id 1 (1 byte), a padding byte, MID id 3 'v1' (2 bytes), padding.
    const withMid = rtp(0, 0x1234, [0xbe, 0xde, 0, 2, 0x10, 0xff, 0x00, (ID << 4) | 1, 0x76, 0x31, 0, 0]);
    expect(d.route(withMid, false)).toBe(1);
    // The same SSRC without the extension, even with an audio payload type, stays video.
    expect(d.route(rtp(0, 0x1234), false)).toBe(1);
    // Its RTCP (sender SSRC at bytes 4-7) too; an unknown sender goes to the first m= line.
    const sr = Buffer.from([0x80, 200, 0, 1, 0x00, 0x00, 0x12, 0x34]);
    expect(d.route(sr, true)).toBe(1);
    expect(d.route(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]), true)).toBe(0);
  });

  it('routes by the two-byte form (RFC 8285 4.3)', () => {
    const d = demux();
    const ext = [0x10, 0x00, 0, 1, ID, 1, 0x61, 0];
    expect(d.route(rtp(96, 0x99, ext), false)).toBe(0);
  });

  it('falls back to the payload type for a new SSRC, and to nothing for an unknown one', () => {
    const d = demux();
    expect(d.route(rtp(97, 0x1), false)).toBe(1);
    expect(d.route(rtp(111, 0x2), false)).toBe(0);
    expect(d.route(rtp(8, 0x3), false)).toBe(-1);
  });

  it('ignores a MID naming no m= line and a malformed extension block, and never reads past the packet', () => {
    const d = demux();
    expect(d.route(rtp(0, 0x5, [0xbe, 0xde, 0, 1, (ID << 4) | 0, 0x7a, 0, 0]), false)).toBe(0);
    // An extension length beyond the packet.
    expect(d.route(rtp(96, 0x6, [0xbe, 0xde, 0, 200, (ID << 4) | 0, 0x61, 0, 0]).subarray(0, 20), false)).toBe(1);
    // An element longer than its block.
    expect(d.route(rtp(96, 0x7, [0xbe, 0xde, 0, 1, (ID << 4) | 7, 0x61, 0, 0]), false)).toBe(1);
    expect(d.route(Buffer.alloc(6), false)).toBe(-1);
  });
});
