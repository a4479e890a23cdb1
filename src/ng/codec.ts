import bencode from 'bencode';
import { NgError, NgErrorText } from './errors.js';
import type { NgDict, NgValue } from './NgRequest.js';

export type NgEncoding = 'bencode' | 'json';

/** One NG datagram split at the first space; null when rtpengine would drop it silently. */
export function splitCookie(packet: Buffer): { cookie: string; body: Buffer } | null {
  const sp = packet.indexOf(0x20);
  if (sp <= 0) return null;
  return { cookie: packet.subarray(0, sp).toString('latin1'), body: packet.subarray(sp + 1) };
}

const decoder = new TextDecoder('utf-8');

function fromBencode(v: unknown): NgValue {
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(fromBencode);
  if (v && typeof v === 'object') {
    const out: NgDict = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromBencode(x);
    return out;
  }
  throw new Error('unexpected bencode value');
}

/** Decodes the dict of a request; the encoding comes from its first byte. */
export function decodeRequest(body: Buffer): { dict: NgDict; encoding: NgEncoding } {
  if (body.length === 0) throw new NgError(NgErrorText.noPayload);
  const first = body[0];
  if (first === 0x64 /* d */) {
    let v: unknown;
    try {
      v = bencode.decode(body);
    } catch {
      throw new NgError(NgErrorText.badBencode);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new NgError(NgErrorText.badBencode);
    return { dict: fromBencode(v) as NgDict, encoding: 'bencode' };
  }
  if (first === 0x7b /* { */) {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      throw new NgError(NgErrorText.badJson);
    }
    // rtpengine 10.5 says "bencode" here as well.
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new NgError(NgErrorText.badBencode);
    return { dict: v as NgDict, encoding: 'json' };
  }
  throw new NgError(NgErrorText.badFormat);
}

/**
 * Bencode in the dict's insertion order, as rtpengine writes it (`result` usually last);
 * the bencode package would sort the keys. Numbers are written as integers.
 */
function bencodeValue(v: NgValue | boolean | null | undefined, out: Buffer[]): void {
  if (typeof v === 'number') out.push(Buffer.from(`i${Math.trunc(v)}e`));
  else if (typeof v === 'boolean') out.push(Buffer.from(v ? 'i1e' : 'i0e'));
  else if (typeof v === 'string') bencodeString(v, out);
  else if (v === null || v === undefined) out.push(Buffer.from('0:'));
  else if (Array.isArray(v)) {
    out.push(Buffer.from('l'));
    for (const x of v) bencodeValue(x, out);
    out.push(Buffer.from('e'));
  } else {
    out.push(Buffer.from('d'));
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      bencodeString(k, out);
      bencodeValue(x, out);
    }
    out.push(Buffer.from('e'));
  }
}

function bencodeString(s: string, out: Buffer[]): void {
  const b = Buffer.from(s, 'utf8');
  out.push(Buffer.from(`${b.length}:`), b);
}

export function encodeReply(cookie: string, dict: NgDict, encoding: NgEncoding): Buffer {
  const parts = [Buffer.from(cookie + ' ', 'latin1')];
  if (encoding === 'json') parts.push(Buffer.from(JSON.stringify(dict)));
  else bencodeValue(dict, parts);
  return Buffer.concat(parts);
}
