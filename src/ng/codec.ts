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
 * the bencode package would sort the keys. Numbers are written as integers. Built as one
 * string and written once: a Buffer per key and value cost more than the rest of a command.
 */
function bencodeValue(v: NgValue | boolean | null | undefined): string {
  if (typeof v === 'string') return bencodeString(v);
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'boolean') return v ? 'i1e' : 'i0e';
  if (v === null || v === undefined) return '0:';
  let out: string;
  if (Array.isArray(v)) {
    out = 'l';
    for (const x of v) out += bencodeValue(x);
  } else {
    out = 'd';
    for (const k in v) {
      const x = v[k];
      if (x === undefined) continue;
      out += bencodeString(k) + bencodeValue(x);
    }
  }
  return out + 'e';
}

function bencodeString(s: string): string {
  let bytes = Buffer.byteLength(s, 'utf8');
  if (bytes !== s.length) {
    // Lone surrogates become U+FFFD (as Buffer.from writes them) before counting, so that
    // two halves in adjacent strings cannot pair up in the joined text.
    s = (s as unknown as { toWellFormed(): string }).toWellFormed();
    bytes = Buffer.byteLength(s, 'utf8');
  }
  return `${bytes}:${s}`;
}

export function encodeReply(cookie: string, dict: NgDict, encoding: NgEncoding): Buffer {
  const body = encoding === 'json' ? JSON.stringify(dict) : bencodeValue(dict);
  const head = cookie.length + 1;
  const out = Buffer.allocUnsafe(head + Buffer.byteLength(body, 'utf8'));
  out.write(cookie + ' ', 0, 'latin1');
  out.write(body, head, 'utf8');
  return out;
}
