import { describe, expect, it } from 'vitest';
import { replyResult } from '../../src/balancer/ReplyCheck.js';
import { decodeRequest, encodeReply } from '../../src/ng/codec.js';
import { seeded } from '../helpers/SharedNodes.js';


const body = (d: Parameters<typeof encodeReply>[1], enc: 'bencode' | 'json' = 'bencode'): Buffer => {
  const b = encodeReply('c', d, enc);
  return b.subarray(b.indexOf(0x20) + 1);
};

const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

describe('replyResult: a member reply checked without decoding it', () => {
  it('names the result of the replies members send, bencode and JSON', () => {
    expect(replyResult(body({ sdp, result: 'ok' }))).toBe('ok');
    expect(replyResult(body({ result: 'error', 'error-reason': 'Unknown call-id' }))).toBe('error');
    expect(replyResult(body({ result: 'load limit', message: 'x' }))).toBe('load limit');
    expect(replyResult(body({ result: 'pong' }, 'json'))).toBe('pong');
    expect(replyResult(body({ created: 1, tags: { a: { medias: [{ streams: [{ 'local port': 30000 }] }] } }, totals: { rtp: { packets: -1 } }, result: 'ok' }))).toBe('ok');
    // A value that merely contains the key's bytes is not the key.
    expect(replyResult(body({ x: '6:result', result: 'ok' }))).toBe('ok');
    expect(replyResult(body({ sdp }))).toBe('');
  });

  it('refuses what is not one dictionary, as the full decoder does, over a seeded corpus of cut and mangled replies', () => {
    const r = seeded(24);
    const samples = [body({ sdp, result: 'ok' }), body({ result: 'error', 'error-reason': 'Unknown call-id', list: [1, 'a', { b: 2 }] }), body({ result: 'ok', calls: ['a', 'b'] }, 'json')];
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const base = samples[n % samples.length]!;
      let b: Buffer;
      if (n % 3 === 0) b = base.subarray(0, Math.floor(r() * base.length));
      else {
        b = Buffer.from(base);
        for (let k = 0; k < 1 + Math.floor(r() * 3); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      }
      let decoded: string | null;
      try {
        const d = decodeRequest(b).dict['result'];
        decoded = typeof d === 'string' ? d : '';
      } catch {
        decoded = null;
      }
      const checked = replyResult(b);
      if (checked === null) refused++;
      // Never accepts what the decoder refuses, and reads the same result. Stricter where the
      // decoder is lenient: a dictionary cut before its closing 'e' is a truncated reply.
      if (decoded === null) expect(checked).toBeNull();
      else if (checked !== null && b[0] === 0x64) expect(checked).toBe(decoded);
    }
    expect(refused).toBeGreaterThan(1000);
    expect(replyResult(Buffer.from('l'.repeat(10_000)))).toBeNull();
    expect(replyResult(Buffer.from(`d1:a${'l'.repeat(10_000)}${'e'.repeat(10_001)}`))).toBeNull();
    expect(replyResult(Buffer.from('d6:result2:okee'))).toBeNull();
    expect(replyResult(Buffer.alloc(0))).toBeNull();
  });
});
