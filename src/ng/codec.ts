import { BencodeError, decodeBencodeDict } from './bencode.js';
import { NgError, NgErrorText } from './errors.js';
import { Encoded } from '../call/ReportDict.js';
import { ObjectSink, type ReportSink } from '../call/ReportSink.js';
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

type Encodable = NgValue | boolean | null | undefined;

/**
 * Bencode in the dict's insertion order, as rtpengine writes it (`result` usually last);
 * the bencode package would sort the keys. Numbers are written as integers. Two passes, size
 * then bytes, straight into the reply buffer: no string is built per key or value, which
 * made the encoder the largest source of garbage per call.
 */
function bencodeSize(v: Encodable): number {
  if (typeof v === 'string') return stringSize(v);
  if (typeof v === 'number') return integerLength(v) + 2;
  if (typeof v === 'boolean') return 3;
  if (v === null || v === undefined) return 2;
  if (v instanceof Encoded) return v.bytes.length;
  let n = 2;
  if (Array.isArray(v)) {
    for (const x of v) n += bencodeSize(x);
  } else {
    for (const k in v) {
      const x = v[k];
      if (x !== undefined) n += stringSize(k) + bencodeSize(x);
    }
  }
  return n;
}

/** A string's bytes are counted and written one string at a time: a lone surrogate is EF BF BD both times. */
function stringSize(s: string): number {
  const bytes = Buffer.byteLength(s, 'utf8');
  return decimalDigits(bytes) + 1 + bytes;
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Digits (and sign) of the integer part; anything but a safe integer goes through its text. */
function integerLength(v: number): number {
  const t = Math.trunc(v);
  if (!Number.isSafeInteger(t)) return String(t).length;
  return t < 0 ? decimalDigits(-t) + 1 : decimalDigits(t);
}

function writeInteger(buf: Buffer, at: number, v: number): number {
  let t = Math.trunc(v);
  if (!Number.isSafeInteger(t)) return at + buf.write(String(t), at, 'latin1');
  if (t < 0) {
    buf[at++] = 0x2d; // -
    t = -t;
  }
  const digits = decimalDigits(t);
  for (let i = at + digits - 1; i >= at; i--, t = Math.floor(t / 10)) buf[i] = 0x30 + (t % 10);
  return at + digits;
}

function writeBencode(buf: Buffer, at: number, v: Encodable): number {
  if (typeof v === 'string') return writeString(buf, at, v);
  if (typeof v === 'number') {
    buf[at++] = 0x69; // i
    at = writeInteger(buf, at, v);
    buf[at++] = 0x65; // e
    return at;
  }
  if (typeof v === 'boolean') return at + buf.write(v ? 'i1e' : 'i0e', at, 'latin1');
  if (v === null || v === undefined) return at + buf.write('0:', at, 'latin1');
  if (v instanceof Encoded) return at + v.bytes.copy(buf, at);
  if (Array.isArray(v)) {
    buf[at++] = 0x6c; // l
    for (const x of v) at = writeBencode(buf, at, x);
  } else {
    buf[at++] = 0x64; // d
    for (const k in v) {
      const x = v[k];
      if (x === undefined) continue;
      at = writeString(buf, at, k);
      at = writeBencode(buf, at, x);
    }
  }
  buf[at++] = 0x65; // e
  return at;
}

function writeString(buf: Buffer, at: number, s: string): number {
  const bytes = Buffer.byteLength(s, 'utf8');
  const digits = decimalDigits(bytes);
  for (let n = bytes, i = at + digits - 1; i >= at; i--, n = Math.floor(n / 10)) buf[i] = 0x30 + (n % 10);
  at += digits;
  buf[at++] = 0x3a; // :
  // Keys and most values are short ASCII: copied by hand, cheaper than Buffer#write's checks.
  if (bytes === s.length && bytes <= 64) {
    for (let i = 0; i < bytes; i++) buf[at + i] = s.charCodeAt(i);
    return at + bytes;
  }
  return at + buf.write(s, at, bytes, 'utf8');
}

/** Reports are written through here one after the other; each copies its bytes out when done. */
let scratch = Buffer.allocUnsafe(16 * 1024);

/** Writes a report in bencode as it goes: no object per dict, list or value. */
class BencodeSink implements ReportSink {
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * scratch.length, this.at + n));
    scratch.copy(bigger, 0, 0, this.at);
    scratch = bigger;
  }

  private byte(b: number): void {
    this.room(1);
    scratch[this.at++] = b;
  }

  dict(): void {
    this.byte(0x64); // d
  }

  list(): void {
    this.byte(0x6c); // l
  }

  end(): void {
    this.byte(0x65); // e
  }

  key(k: string): void {
    this.str(k);
  }

  str(v: string): void {
    this.room(stringSize(v));
    this.at = writeString(scratch, this.at, v);
  }

  num(v: number): void {
    this.room(integerLength(v) + 2);
    scratch[this.at++] = 0x69; // i
    this.at = writeInteger(scratch, this.at, v);
    scratch[this.at++] = 0x65; // e
  }

  done(): Encoded {
    const bytes = Buffer.allocUnsafe(this.at);
    scratch.copy(bytes, 0, 0, this.at);
    return new Encoded(bytes);
  }
}

/** The sink a report for this reply is written into: bencode bytes at once, or objects for JSON. */
export function reportSink(encoding: NgEncoding | undefined): ReportSink {
  return encoding === 'json' || encoding === undefined ? new ObjectSink() : new BencodeSink();
}

export function encodeReply(cookie: string, dict: NgDict, encoding: NgEncoding): Buffer {
  const head = cookie.length + 1;
  if (encoding === 'json') {
    const body = JSON.stringify(dict);
    const out = Buffer.allocUnsafe(head + Buffer.byteLength(body, 'utf8'));
    out.write(cookie + ' ', 0, 'latin1');
    out.write(body, head, 'utf8');
    return out;
  }
  const out = Buffer.allocUnsafe(head + bencodeSize(dict));
  out.write(cookie, 0, 'latin1');
  out[head - 1] = 0x20;
  writeBencode(out, head, dict);
  return out;
}
