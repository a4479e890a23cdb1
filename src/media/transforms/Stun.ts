import { createHmac } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { crc32 } from 'node:zlib';

/** RFC 5389 STUN, as far as an ICE agent needs it: binding requests, responses and errors. */
export const MAGIC_COOKIE = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const BINDING_ERROR = 0x0111;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;
export const ATTR_ERROR_CODE = 0x0009;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
export const ATTR_PRIORITY = 0x0024;
export const ATTR_USE_CANDIDATE = 0x0025;
export const ATTR_FINGERPRINT = 0x8028;
export const ATTR_ICE_CONTROLLED = 0x8029;
export const ATTR_ICE_CONTROLLING = 0x802a;
export const ATTR_SOFTWARE = 0x8022;
/** RFC 8445 7.3.1.1: the answer to a check from an agent in the same role that wins the tie. */
export const ROLE_CONFLICT = 487;
/** What the relay names itself in what it sends (SOFTWARE, first like rtpengine's, whose name it carries for its peers' and tools' sake). */
const SOFTWARE = Buffer.from('rtpengine-ngrelay');
const FINGERPRINT_XOR = 0x5354554e;
const HEADER = 20;
/** Attributes looked at per message: parsing stays bounded whatever arrives. */
const MAX_ATTRIBUTES = 32;

export interface StunMessage {
  type: number;
  transactionId: Buffer;
  /** Attribute type -> value; the first of repeated types; none after MESSAGE-INTEGRITY but FINGERPRINT. */
  attributes: Map<number, Buffer>;
  /** Offset of MESSAGE-INTEGRITY, -1 if absent. */
  integrityAt: number;
  raw: Buffer;
}

/** RFC 7983: a first byte of 0-3 is STUN. */
export const isStun = (p: Buffer): boolean => p.length >= HEADER && p[0]! < 4 && p.readUInt32BE(4) === MAGIC_COOKIE;

/** Parses a STUN message; null when it is not one or is malformed. */
export function parseStun(p: Buffer): StunMessage | null {
  if (!isStun(p)) return null;
  const length = p.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length !== p.length) return null;
  const attributes = new Map<number, Buffer>();
  let integrityAt = -1;
  let off = HEADER;
  for (let n = 0; off + 4 <= p.length && n < MAX_ATTRIBUTES; n++) {
    const type = p.readUInt16BE(off);
    const len = p.readUInt16BE(off + 2);
    if (off + 4 + len > p.length) return null;
    if (integrityAt < 0 || type === ATTR_FINGERPRINT) {
      if (!attributes.has(type)) attributes.set(type, p.subarray(off + 4, off + 4 + len));
      if (type === ATTR_MESSAGE_INTEGRITY) integrityAt = off;
    }
    off += 4 + ((len + 3) & ~3);
  }
  return { type: p.readUInt16BE(0), transactionId: p.subarray(8, 20), attributes, integrityAt, raw: p };
}

/** MESSAGE-INTEGRITY (RFC 5389 15.4) with a short-term credential: HMAC-SHA1 keyed by the password. */
export function checkIntegrity(m: StunMessage, password: string): boolean {
  if (m.integrityAt < 0) return false;
  const mi = m.attributes.get(ATTR_MESSAGE_INTEGRITY)!;
  if (mi.length !== 20) return false;
  const head = Buffer.from(m.raw.subarray(0, m.integrityAt));
  head.writeUInt16BE(m.integrityAt + 24 - HEADER, 2);
  return createHmac('sha1', password).update(head).digest().equals(mi);
}

function attribute(type: number, value: Buffer): Buffer {
  const a = Buffer.alloc(4 + ((value.length + 3) & ~3));
  a.writeUInt16BE(type, 0);
  a.writeUInt16BE(value.length, 2);
  value.copy(a, 4);
  return a;
}

function xorAddress(address: string, port: number, transactionId: Buffer): Buffer {
  const v4 = isIPv4(address);
  const v = Buffer.alloc(v4 ? 8 : 20);
  v[1] = v4 ? 1 : 2;
  v.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  if (v4) {
    const parts = address.split('.').map(Number);
    for (let i = 0; i < 4; i++) v[4 + i] = parts[i]! ^ ((MAGIC_COOKIE >>> (24 - 8 * i)) & 0xff);
  } else {
    const bytes = ipv6Bytes(address);
    const mask = Buffer.alloc(16);
    mask.writeUInt32BE(MAGIC_COOKIE, 0);
    transactionId.copy(mask, 4);
    for (let i = 0; i < 16; i++) v[4 + i] = bytes[i]! ^ mask[i]!;
  }
  return v;
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.slice(0, 8).forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16) & 0xffff, i * 2));
  return b;
}

/**
 * A STUN message of `type` with SOFTWARE, the given attributes, MESSAGE-INTEGRITY keyed by
 * `password` and FINGERPRINT (RFC 5389 15.4, 15.5).
 */
export function stunMessage(type: number, transactionId: Buffer, attributes: readonly (readonly [number, Buffer])[], password: string): Buffer {
  const header = Buffer.alloc(HEADER);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(header, 8);
  const body = [header, attribute(ATTR_SOFTWARE, SOFTWARE), ...attributes.map(([t, v]) => attribute(t, v))];
  let length = 0;
  for (let i = 1; i < body.length; i++) length += body[i]!.length;
  header.writeUInt16BE(length + 24, 2);
  const mac = createHmac('sha1', password);
  for (const b of body) mac.update(b);
  body.push(attribute(ATTR_MESSAGE_INTEGRITY, mac.digest()));
  const signed = Buffer.concat(body);
  signed.writeUInt16BE(signed.length - HEADER + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(signed) ^ FINGERPRINT_XOR) >>> 0, 0);
  return Buffer.concat([signed, attribute(ATTR_FINGERPRINT, fp)]);
}

/**
 * A binding success response (RFC 8445 7.3): XOR-MAPPED-ADDRESS of the request's source,
 * MESSAGE-INTEGRITY with our password, FINGERPRINT.
 */
export function bindingSuccess(transactionId: Buffer, address: string, port: number, password: string): Buffer {
  return stunMessage(BINDING_SUCCESS, transactionId, [[ATTR_XOR_MAPPED_ADDRESS, xorAddress(address, port, transactionId)]], password);
}

/** A binding error response (RFC 5389 15.6): ERROR-CODE with its reason phrase. */
export function bindingError(transactionId: Buffer, code: number, reason: string, password: string): Buffer {
  const v = Buffer.alloc(4 + Buffer.byteLength(reason));
  v[2] = Math.floor(code / 100);
  v[3] = code % 100;
  v.write(reason, 4);
  return stunMessage(BINDING_ERROR, transactionId, [[ATTR_ERROR_CODE, v]], password);
}

/** The code of an ERROR-CODE attribute, 0 without one. */
export function errorCode(m: StunMessage): number {
  const v = m.attributes.get(ATTR_ERROR_CODE);
  return v && v.length >= 4 ? (v[2]! & 7) * 100 + v[3]! : 0;
}

/** A connectivity check (RFC 8445 7.2.2): USERNAME, the role with our tie-breaker, PRIORITY, maybe USE-CANDIDATE. */
export function bindingRequest(transactionId: Buffer, username: string, controlling: boolean, tieBreaker: Buffer, priority: number, useCandidate: boolean, password: string): Buffer {
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(priority >>> 0, 0);
  const attrs: [number, Buffer][] = [
    [ATTR_USERNAME, Buffer.from(username)],
    [controlling ? ATTR_ICE_CONTROLLING : ATTR_ICE_CONTROLLED, tieBreaker],
    [ATTR_PRIORITY, prio],
  ];
  if (useCandidate) attrs.push([ATTR_USE_CANDIDATE, Buffer.alloc(0)]);
  return stunMessage(BINDING_REQUEST, transactionId, attrs, password);
}

/** Whether a FINGERPRINT attribute, if present, is right. */
export function checkFingerprint(m: StunMessage): boolean {
  const fp = m.attributes.get(ATTR_FINGERPRINT);
  if (!fp) return true;
  const at = m.raw.length - 8;
  if (fp.length !== 4 || at < HEADER || m.raw.readUInt16BE(at) !== ATTR_FINGERPRINT) return false;
  return ((crc32(m.raw.subarray(0, at)) ^ FINGERPRINT_XOR) >>> 0) === fp.readUInt32BE(0);
}
