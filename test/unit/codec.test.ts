import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { Encoded } from '../../src/call/ReportDict.js';
import type { ReportSink } from '../../src/call/ReportSink.js';
import { decodeRequest, encodeReply, reportSink, splitCookie } from '../../src/ng/codec.js';
import { NgError } from '../../src/ng/errors.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function reason(body: Buffer): string {
  try {
    decodeRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(NgError);
    return (e as Error).message;
  }
  throw new Error('decoded without error');
}

describe('splitCookie', () => {
  it('splits at the first space only', () => {
    const p = splitCookie(b('0_24043_0 d7:command4:pinge'))!;
    expect(p.cookie).toBe('0_24043_0');
    expect(p.body).toEqual(b('d7:command4:pinge'));
    const q = splitCookie(b('c1 d3:sdp3:a be'))!;
    expect(q.cookie).toBe('c1');
    expect(q.body).toEqual(b('d3:sdp3:a be'));
  });

  it('keeps an empty body after the space', () => {
    expect(splitCookie(b('abc '))).toEqual({ cookie: 'abc', body: Buffer.alloc(0) });
  });

  it('drops a packet with no space, or a space as its first byte', () => {
    expect(splitCookie(b('nospace'))).toBeNull();
    expect(splitCookie(b(' d7:command4:pinge'))).toBeNull();
    expect(splitCookie(Buffer.alloc(0))).toBeNull();
  });
});

describe('decodeRequest', () => {
  it('detects bencode by "d" and decodes unsorted keys, nested lists and integers', () => {
    const body = b('d8:supportsl10:load limite3:ICE6:remove7:replacel6:origin18:session-connectione5:limiti5e7:command5:offere');
    expect(decodeRequest(body)).toEqual({
      encoding: 'bencode',
      dict: { supports: ['load limit'], ICE: 'remove', replace: ['origin', 'session-connection'], limit: 5, command: 'offer' },
    });
  });

  it('decodes UTF-8 strings from bencode', () => {
    expect(decodeRequest(Buffer.from(bencode.encode({ label: 'Zoë' }))).dict['label']).toBe('Zoë');
  });

  it('detects JSON by "{"', () => {
    expect(decodeRequest(b('{"command":"ping","flags":["a"]}'))).toEqual({ encoding: 'json', dict: { command: 'ping', flags: ['a'] } });
  });

  it("gives rtpengine's error texts", () => {
    expect(reason(Buffer.alloc(0))).toBe('Invalid data (no payload)');
    expect(reason(b('d3:foo'))).toBe('Could not decode bencode dictionary');
    expect(reason(b('d3:fooi1e5:flags'))).toBe('Could not decode bencode dictionary');
    expect(reason(b('{bad json'))).toBe('Failed to parse JSON document');
    expect(reason(b('xyz'))).toBe('Invalid NG data format');
    expect(reason(b('[1,2]'))).toBe('Invalid NG data format');
    expect(reason(b('li1ee'))).toBe('Invalid NG data format');
    expect(reason(b('i5e'))).toBe('Invalid NG data format');
  });
});

// Each case was checked against rtpengine 10.5 (mr10.5.3.5): its decoder is lenient at the
// end of a datagram and strict about numbers and string lengths.
describe('bencode as rtpengine reads it', () => {
  const dict = (s: string): unknown => decodeRequest(b(s)).dict;

  it('closes containers left open at the end of the datagram', () => {
    expect(dict('d')).toEqual({});
    expect(dict('d7:command4:ping')).toEqual({ command: 'ping' });
    expect(dict('d7:command4:ping5:flagsl3:abc')).toEqual({ command: 'ping', flags: ['abc'] });
    expect(dict('d7:command4:ping1:xd1:ai1e')).toEqual({ command: 'ping', x: { a: 1 } });
  });

  it('ignores what follows the dictionary and keeps the first of duplicate keys', () => {
    expect(dict('d7:command4:pinge   trailing')).toEqual({ command: 'ping' });
    expect(dict('d7:command4:ping7:command5:offere')).toEqual({ command: 'ping' });
  });

  it('takes i-0e, blanks before digits and huge integers; refuses leading zeros and empty numbers', () => {
    expect(dict('d1:xi-0ee')).toEqual({ x: -0 });
    expect(dict('d1:xi 5ee')).toEqual({ x: 5 });
    expect(dict('d1:xi99999999999999999999999ee')).toEqual({ x: 1e23 });
    for (const bad of ['d1:xi01ee', 'd1:xiee', 'd1:xi1', 'd1:x03:abce', 'd1:x10:abce', 'd1:x', 'd1:', 'di1e1:xe']) {
      expect(reason(b(bad)), bad).toBe('Could not decode bencode dictionary');
    }
  });

  it('gives dictionaries nothing to inherit: built-in names are plain keys', () => {
    const d = dict('d9:__proto__d1:ai1ee11:constructor1:x8:toString1:ye') as Record<string, unknown>;
    expect(d['valueOf']).toBeUndefined();
    expect(Object.keys(d)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(d['constructor']).toBe('x');
    const j = decodeRequest(b('{"__proto__":{"a":1},"command":"ping"}')).dict as Record<string, unknown>;
    expect(j['hasOwnProperty']).toBeUndefined();
    expect(Object.keys(j)).toEqual(['__proto__', 'command']);
  });

  it('decodes 30,000 nested lists without running out of stack (rtpengine 10.5 crashes)', () => {
    const deep = 'd7:command4:ping1:x' + 'l'.repeat(30_000) + 'e'.repeat(30_000) + 'e';
    expect((dict(deep) as Record<string, unknown>)['command']).toBe('ping');
  });

  it('keeps invalid UTF-8 strings apart: one character per byte', () => {
    const d = decodeRequest(Buffer.concat([b('d7:call-id3:'), Buffer.from([0x61, 0xff, 0xfe]), b('1:y2:'), Buffer.from([0xc3, 0xa9]), b('e')])).dict;
    expect(d['call-id']).toBe('a\u00ff\u00fe');
    expect(d['y']).toBe('\u00e9');
  });
});

describe('encodeReply', () => {
  it('writes COOKIE SP bencode, keys in insertion order, integers as i..e', () => {
    expect(encodeReply('0_1_0', { warning: "Call-ID not found or tags didn't match", result: 'ok' }, 'bencode').toString('latin1'))
      .toBe("0_1_0 d7:warning38:Call-ID not found or tags didn't match6:result2:oke");
    expect(encodeReply('c', { n: 3.7, l: [1, 'x'], d: { a: 'b' } }, 'bencode').toString('latin1')).toBe('c d1:ni3e1:lli1e1:xe1:dd1:a1:bee');
    expect(encodeReply('c', { a: -3.7, b: 0, c: 2 ** 60, d: 1234567890123 }, 'bencode').toString('latin1')).toBe(`c d1:ai-3e1:bi0e1:ci${2 ** 60}e1:di1234567890123ee`);
  });

  it('writes JSON when the request was JSON', () => {
    expect(encodeReply('c1', { result: 'pong' }, 'json').toString()).toBe('c1 {"result":"pong"}');
  });

  it('round-trips a ping reply byte for byte', () => {
    expect(encodeReply('0_17326_0', { result: 'pong' }, 'bencode')).toEqual(b('0_17326_0 d6:result4:ponge'));
  });

  it('writes each string as its own UTF-8 bytes (a lone surrogate is EF BF BD) and long lengths in full', () => {
    const long = 'x'.repeat(12345);
    const out = encodeReply('c', { a: 'Zo\u00eb', b: '\ud800', c: '\udc00', l: long, n: -42, t: true, z: null } as never, 'bencode');
    expect(out).toEqual(Buffer.concat([b('c d1:a4:'), Buffer.from('Zo\u00eb'), b('1:b3:'), Buffer.from([0xef, 0xbf, 0xbd]), b('1:c3:'), Buffer.from([0xef, 0xbf, 0xbd]),
      b(`1:l12345:${long}1:ni-42e1:ti1e1:z0:e`)]));
  });

  it('agrees with the bencode package on seeded random replies (keys sorted, as it writes them)', () => {
    let seed = 7;
    const r = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const text = (): string => Array.from({ length: Math.floor(r() * 40) }, () => String.fromCharCode(r() < 0.8 ? 32 + Math.floor(r() * 95) : 0xa0 + Math.floor(r() * 0x2000))).join('');
    const value = (depth: number): unknown => {
      const k = r();
      if (depth > 3 || k < 0.4) return text();
      if (k < 0.6) return Math.floor((r() - 0.5) * 1e9);
      if (k < 0.8) return Array.from({ length: Math.floor(r() * 5) }, () => value(depth + 1));
      const keys = [...new Set(Array.from({ length: Math.floor(r() * 6) }, text))].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      return Object.fromEntries(keys.map((key) => [key, value(depth + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const dict = value(0) as Record<string, never>;
      if (typeof dict !== 'object' || Array.isArray(dict)) continue;
      expect(encodeReply('k', dict, 'bencode').subarray(2)).toEqual(Buffer.from(bencode.encode(dict)));
    }
  });
});

describe('report sinks', () => {
  /** A report of `parties` parties, with what the encoders treat specially: UTF-8, a lone surrogate, large and negative numbers, empty containers. */
  function writeReport(sink: ReportSink, parties: number): void {
    sink.dict();
    for (let i = 0; i < parties; i++) {
      sink.key(`tag-${i}-ü`);
      sink.dict();
      sink.key('created');
      sink.num(1_796_200_479 + i);
      sink.key('medias');
      sink.list();
      sink.dict();
      sink.key('index');
      sink.num(-i);
      sink.key('label');
      sink.str(i % 2 ? 'caller \ud800' : 'x'.repeat(200));
      sink.key('endpoint');
      sink.dict();
      sink.end();
      sink.key('flags');
      sink.list();
      sink.end();
      sink.key('bytes');
      sink.num(2 ** 60);
      sink.end();
      sink.end();
      sink.end();
    }
    sink.end();
  }

  it('writes in bencode exactly what the same report built as objects encodes to, past the scratch buffer', () => {
    for (const parties of [0, 1, 3, 400]) {
      const asObjects = reportSink('json');
      writeReport(asObjects, parties);
      const asBencode = reportSink('bencode');
      writeReport(asBencode, parties);
      const objects = asObjects.done();
      expect(Object.keys(objects as object)).toHaveLength(parties);
      const direct = encodeReply('c', { tags: asBencode.done(), result: 'ok' }, 'bencode');
      expect(direct.equals(encodeReply('c', { tags: objects, result: 'ok' }, 'bencode')), `${parties} parties`).toBe(true);
    }
    // 400 parties are larger than the 16 kB scratch buffer.
    const big = reportSink('bencode');
    writeReport(big, 400);
    expect((big.done() as Encoded).bytes.length).toBeGreaterThan(64 * 1024);
  });
});
