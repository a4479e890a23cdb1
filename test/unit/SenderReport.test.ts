import { describe, expect, it } from 'vitest';
import { ReceivedStream } from '../../src/media/engine/ReceivedStream.js';
import { MAX_REPORT, writeSenderReport } from '../../src/media/engine/SenderReport.js';

const sent = { ssrc: 0x11223344, sentPackets: 1, sentOctets: 172, lastTs: 0xaabbccdd };
const cname = Buffer.from('0123456789ab', 'latin1');
/** 2026-01-01T00:00:00.500Z: NTP seconds 0xed003780, half a second 0x7fffffff. */
const now = Date.UTC(2026, 0, 1, 0, 0, 0, 500);

describe('writeSenderReport (rtpengine 10.5 layout)', () => {
  it('a sender report without a block when the party sent nothing, then SDES CNAME padded to 32 bits', () => {
    const out = Buffer.alloc(MAX_REPORT);
    const n = writeSenderReport(out, now, sent, new ReceivedStream(), null, cname);
    expect(out.subarray(0, n).toString('hex')).toBe(
      '80c80006' + '11223344' + 'ed003780' + '7fffffff' + 'aabbccdd' + '00000001' + '000000ac' +
        '81ca0005' + '11223344' + '010c' + Buffer.from('0123456789ab').toString('hex') + '0000',
    );
  });

  it("a block about the party's stream: loss as a share of all, extended highest sequence, its last SR and the delay since", () => {
    const rx = new ReceivedStream();
    const p = Buffer.alloc(12);
    for (const seq of [0xfffe, 0xffff, 2]) {
      p.writeUInt16BE(seq, 2);
      p.writeUInt32BE(0x1234, 8);
      rx.received(p, 12);
    }
    const sr = Buffer.from('80c8000600001234000056789abc000000000bb800000001000000ac', 'hex');
    rx.control(sr, sr.length, now - 1000);
    const out = Buffer.alloc(MAX_REPORT);
    const n = writeSenderReport(out, now, sent, rx, rx, cname);
    expect(n).toBe(76);
    // 5 expected (0xfffe..0x10002), 3 received: 2 lost, 2*256/5 = 102 (0x66); DLSR one second = 65536.
    expect(out.subarray(0, 4).toString('hex')).toBe('81c8000c');
    expect(out.subarray(28, 52).toString('hex')).toBe('00001234' + '66000002' + '00010002' + '00000000' + '56789abc' + '00010000');
  });

  it('packets another path relayed are not taken for loss: the stream starts again at the next one seen', () => {
    const rx = new ReceivedStream();
    const p = Buffer.alloc(12);
    p.writeUInt32BE(0x1234, 8);
    p.writeUInt16BE(10, 2);
    rx.received(p, 12);
    rx.restart();
    p.writeUInt16BE(500, 2);
    rx.received(p, 12);
    expect([rx.packets, rx.highestSeq, rx.lost]).toEqual([1, 500, 0]);
  });

  it("another SSRC's sender report is not taken as the stream's", () => {
    const rx = new ReceivedStream();
    const p = Buffer.alloc(12);
    p.writeUInt32BE(0x9999, 8);
    rx.received(p, 12);
    const sr = Buffer.from('80c8000600001234000056789abc000000000bb800000001000000ac', 'hex');
    rx.control(sr, sr.length, now);
    const out = Buffer.alloc(MAX_REPORT);
    writeSenderReport(out, now, sent, rx, rx, cname);
    expect(out.subarray(44, 52).toString('hex')).toBe('0000000000000000');
  });
});
