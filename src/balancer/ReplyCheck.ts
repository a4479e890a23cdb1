/**
 * A member's reply checked without decoding it: the balancer passes the bytes on untouched and
 * needs only to know that they are one NG dictionary, and what its `result` says. A bencode
 * reply is walked once, byte by byte, building nothing (the full decode built every key and
 * value of an SDP-sized reply for each command); a JSON reply (rare: proxies send bencode)
 * is parsed.
 */

/** Nesting a reply may have; deeper is not an NG reply (and must not exhaust the stack). */
const MAX_DEPTH = 32;

const D = 0x64; // d
const L = 0x6c; // l
const I = 0x69; // i
const E = 0x65; // e
const COLON = 0x3a;
const RESULT = Buffer.from('6:result');

/** Index after the bencode value at `i`, or -1 when it is malformed. */
function skip(b: Buffer, i: number, depth: number): number {
  const c = b[i];
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) {
    let n = 0;
    let j = i;
    while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) {
      n = n * 10 + b[j]! - 0x30;
      if (n > b.length) return -1;
      j++;
    }
    if (b[j] !== COLON) return -1;
    const end = j + 1 + n;
    return end <= b.length ? end : -1;
  }
  if (c === I) {
    let j = i + 1;
    if (b[j] === 0x2d) j++;
    const start = j;
    while (j < b.length && b[j]! >= 0x30 && b[j]! <= 0x39) j++;
    return j > start && b[j] === E ? j + 1 : -1;
  }
  if (depth >= MAX_DEPTH) return -1;
  if (c === L) {
    let j = i + 1;
    while (b[j] !== E) {
      j = skip(b, j, depth + 1);
      if (j < 0) return -1;
    }
    return j + 1;
  }
  if (c === D) {
    let j = i + 1;
    while (b[j] !== E) {
      // Keys are strings.
      if (!(b[j]! >= 0x30 && b[j]! <= 0x39)) return -1;
      j = skip(b, j, depth + 1);
      if (j < 0) return -1;
      j = skip(b, j, depth + 1);
      if (j < 0) return -1;
    }
    return j + 1;
  }
  return -1;
}

/** The text of the bencode string at `i` (the caller checked it is one). */
function stringAt(b: Buffer, i: number): string {
  const colon = b.indexOf(COLON, i);
  const n = Number(b.toString('latin1', i, colon));
  return b.toString('latin1', colon + 1, colon + 1 + n);
}

/**
 * The reply's `result` (`''` when it has none), or null when the bytes are not one NG
 * dictionary: truncated, malformed, trailing bytes, or not a dictionary at all.
 */
export function replyResult(body: Buffer): string | null {
  if (body[0] === 0x7b) {
    try {
      const v = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
      const r = (v as Record<string, unknown>)['result'];
      return typeof r === 'string' ? r : '';
    } catch {
      return null;
    }
  }
  if (body[0] !== D) return null;
  let result = '';
  let j = 1;
  while (j < body.length && body[j] !== E) {
    if (!(body[j]! >= 0x30 && body[j]! <= 0x39)) return null;
    const key = j;
    j = skip(body, j, 1);
    if (j < 0) return null;
    const value = j;
    j = skip(body, j, 1);
    if (j < 0) return null;
    if (value - key === RESULT.length && body.compare(RESULT, 0, RESULT.length, key, value) === 0 && body[value]! >= 0x30 && body[value]! <= 0x39) {
      result = stringAt(body, value);
    }
  }
  return j === body.length - 1 && body[j] === E ? result : null;
}
