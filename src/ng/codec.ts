import { BencodeError, decodeBencodeDict } from './bencode.js';
import { NgError, NgErrorText } from './errors.js';
import { emptyDict, type NgDict, type NgValue } from './NgRequest.js';

export type NgEncoding = 'bencode' | 'json';

/** One NG datagram split at the first space; null when rtpengine would drop it silently. */
export function splitCookie(packet: Buffer): { cookie: string; body: Buffer } | null {
  const sp = packet.indexOf(0x20);
  if (sp <= 0) return null;
  return { cookie: packet.subarray(0, sp).toString('latin1'), body: packet.subarray(sp + 1) };
}

/** JSON objects rebuilt without a prototype, so no key of theirs can name a built-in property. */
function fromJson(v: unknown): NgValue {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === 'object') {
    const out = emptyDict();
    for (const k of Object.keys(v)) out[k] = fromJson((v as Record<string, unknown>)[k]);
    return out;
  }
  // Strings and numbers; true/false/null pass as they came and match no typed getter.
  return v as NgValue;
}

/** Decodes the dict of a request; the encoding comes from its first byte. */
export function decodeRequest(body: Buffer): { dict: NgDict; encoding: NgEncoding } {
  if (body.length === 0) throw new NgError(NgErrorText.noPayload);
  const first = body[0];
  if (first === 0x64 /* d */) {
    try {
      return { dict: decodeBencodeDict(body), encoding: 'bencode' };
    } catch (e) {
      if (e instanceof BencodeError) throw new NgError(NgErrorText.badBencode);
      throw e;
    }
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
    try {
      return { dict: fromJson(v) as NgDict, encoding: 'json' };
    } catch {
      // Nested deeper than the stack allows.
      throw new NgError(NgErrorText.badJson);
    }
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
