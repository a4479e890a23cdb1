import { describe, expect, it } from 'vitest';
import { rtpengineTagOrder } from '../../src/call/TagOrder.js';
import { dtmfReportText, durationMs } from '../../src/media/DtmfReport.js';
import { DtmfEnds } from '../../src/media/engine/DtmfEnds.js';
import { RelayLeg } from '../../src/media/userspace/RelayLeg.js';
import { bindUdp } from '../../src/media/userspace/udp.js';

/** An RTP packet of payload type `pt` at timestamp `ts` with a 4-byte event payload (after `csrcs` CSRCs). */
function packet(pt: number, ts: number, event: number, end: boolean, volume: number, duration: number, csrcs = 0): Buffer {
  const b = Buffer.alloc(16 + 4 * csrcs);
  b[0] = 0x80 | csrcs;
  b[1] = pt;
  b.writeUInt32BE(ts, 4);
  const o = 12 + 4 * csrcs;
  b[o] = event;
  b[o + 1] = (end ? 0x80 : 0) | volume;
  b.writeUInt16BE(duration, o + 2);
  return b;
}

describe('DTMF reports', () => {
  it("writes rtpengine's JSON: keys in its order, duration in ms by its integer arithmetic", () => {
    const r = { callId: 'c1@host', sourceTag: 'a', tags: ['b', 'a'], events: [] };
    expect(dtmfReportText(r, '192.0.2.1', { event: 11, durationMs: durationMs(1600, 8000), volume: 10 }, 1700000000)).toBe(
      '{"callid":"c1@host","source_tag":"a","tags":["b","a"],"type":"DTMF","timestamp":1700000000,"source_ip":"192.0.2.1","event":11,"duration":200,"volume":10}',
    );
    // 48 kHz: 1000000 / 48000 = 20 µs per tick; 16 kHz: 62; an unknown clock counts as 8 kHz.
    expect([durationMs(4800, 48000), durationMs(1000, 16000), durationMs(800, 0)]).toEqual([96, 62, 100]);
    // A quote in a call-id stays valid JSON.
    expect(JSON.parse(dtmfReportText({ ...r, callId: 'x"y' }, '::1', { event: 1, durationMs: 1, volume: 1 }, 1)).callid).toBe('x"y');
  });

  it("lists tags in the order rtpengine 10.5's hash table gives them", () => {
    // Each pair as rtpengine 10.5 reported it for a call with that from-tag and to-tag.
    expect(rtpengineTagOrder(['caller', 'callee'])).toEqual(['callee', 'caller']);
    expect(rtpengineTagOrder(['B', 'A'])).toEqual(['A', 'B']);
    expect(rtpengineTagOrder(['as8d7f6', 'xyz-123'])).toEqual(['xyz-123', 'as8d7f6']);
    expect(rtpengineTagOrder(['1234567890abcdef', 'fedcba'])).toEqual(['fedcba', '1234567890abcdef']);
    expect(rtpengineTagOrder(['ä-tag', 'z'])).toEqual(['ä-tag', 'z']);
    expect(rtpengineTagOrder(['t2', 't1'])).toEqual(['t1', 't2']);
    expect(rtpengineTagOrder(['a', 'i'])).toEqual(['a', 'i']);
    expect(rtpengineTagOrder([])).toEqual([]);
    const many = Array.from({ length: 20 }, (_, i) => `tag${i}`);
    expect(new Set(rtpengineTagOrder(many))).toEqual(new Set(many));
  });

  it('finds each event once, at its first end packet, only in telephone-event payload types', () => {
    const ends = new DtmfEnds([{ pt: 101, clock: 8000 }, { pt: 96, clock: 48000 }]);
    expect(ends.ended(packet(101, 1000, 5, false, 10, 160), 16)).toBe(false);
    expect(ends.ended(packet(0, 1000, 5, true, 10, 160), 16)).toBe(false);
    expect(ends.ended(packet(101, 1000, 5, true, 10, 800), 16)).toBe(true);
    expect(ends.digit).toEqual({ event: 5, durationMs: 100, volume: 10 });
    expect(ends.ended(packet(101, 1000, 5, true, 10, 800), 16)).toBe(false);
    // The marker bit is not part of the payload type; CSRCs come before the payload.
    const next = packet(96, 2000, 11, true, 3, 9600, 2);
    next[1]! |= 0x80;
    expect(ends.ended(next, next.length)).toBe(true);
    expect(ends.digit).toEqual({ event: 11, durationMs: 192, volume: 3 });
    // Too short for its header and payload: nothing.
    expect(ends.ended(packet(101, 3000, 1, true, 3, 160, 2), 18)).toBe(false);
    expect(ends.ended(Buffer.alloc(4), 4)).toBe(false);
  });

  it('keeps a leg whose party sends telephone-event out of the kernel fast path while reporting', async () => {
    const socket = await bindUdp('127.0.0.1', 4, 0);
    const leg = new RelayLeg(socket, '127.0.0.1', socket.address().port, 4);
    try {
      const reporting = { callId: 'c', sourceTag: 'a', tags: ['a', 'b'], events: [] as { pt: number; clock: number }[] };
      leg.setDtmfReporting(reporting);
      expect(leg.transformed).toBe(false);
      leg.setDtmfReporting({ ...reporting, events: [{ pt: 101, clock: 8000 }] });
      expect(leg.transformed).toBe(true);
      leg.setDtmfReporting(null);
      expect(leg.transformed).toBe(false);
    } finally {
      leg.close();
    }
  });
});
