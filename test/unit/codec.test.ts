import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeReply, splitCookie } from '../../src/ng/codec.js';
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
    expect(reason(b('d3:fooi1e'))).toBe('Could not decode bencode dictionary');
    expect(reason(b('{bad json'))).toBe('Failed to parse JSON document');
    expect(reason(b('xyz'))).toBe('Invalid NG data format');
    expect(reason(b('[1,2]'))).toBe('Invalid NG data format');
    expect(reason(b('li1ee'))).toBe('Invalid NG data format');
    expect(reason(b('i5e'))).toBe('Invalid NG data format');
  });
});

describe('encodeReply', () => {
  it('writes COOKIE SP bencode, keys in insertion order, integers as i..e', () => {
    expect(encodeReply('0_1_0', { warning: "Call-ID not found or tags didn't match", result: 'ok' }, 'bencode').toString('latin1'))
      .toBe("0_1_0 d7:warning38:Call-ID not found or tags didn't match6:result2:oke");
    expect(encodeReply('c', { n: 3.7, l: [1, 'x'], d: { a: 'b' } }, 'bencode').toString('latin1')).toBe('c d1:ni3e1:lli1e1:xe1:dd1:a1:bee');
  });

  it('writes JSON when the request was JSON', () => {
    expect(encodeReply('c1', { result: 'pong' }, 'json').toString()).toBe('c1 {"result":"pong"}');
  });

  it('round-trips a ping reply byte for byte', () => {
    expect(encodeReply('0_17326_0', { result: 'pong' }, 'bencode')).toEqual(b('0_17326_0 d6:result4:ponge'));
  });
});
