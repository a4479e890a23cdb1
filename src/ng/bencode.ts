import { emptyDict, type NgDict, type NgValue } from './NgRequest.js';
import { wireText } from './wireText.js';

export class BencodeError extends Error {}

type Open = { list: NgValue[]; dict?: undefined } | { dict: NgDict; key: string | null; list?: undefined };

/**
 * Decodes the bencode dictionary at the start of `buf`, in one pass and without recursion
 * (any nesting depth costs heap, never stack). Lenient where rtpengine 10.5 is: containers
 * still open at the end of the datagram are closed, bytes after the dictionary are ignored,
 * the first of duplicate keys wins, `i-0e` and blanks before an integer's digits are taken.
 */
export function decodeBencodeDict(buf: Buffer): NgDict {
  if (buf[0] !== 0x64 /* d */) throw new BencodeError('not a dictionary');
  const root = emptyDict();
  const stack: Open[] = [{ dict: root, key: null }];
  let pos = 1;

  const add = (v: NgValue): void => {
    const top = stack[stack.length - 1]!;
    if (top.list) top.list.push(v);
    else if (top.key === null) {
      if (typeof v !== 'string') throw new BencodeError('dictionary key is not a string');
      top.key = v;
    } else {
      if (!Object.prototype.hasOwnProperty.call(top.dict, top.key)) top.dict[top.key] = v;
      top.key = null;
    }
  };

  while (stack.length > 0) {
    if (pos >= buf.length) {
      // End of datagram: open containers close, but not a key waiting for its value.
      for (const o of stack) if (o.dict && o.key !== null) throw new BencodeError('key without value');
      break;
    }
    const c = buf[pos]!;
    if (c === 0x65 /* e */) {
      const top = stack.pop()!;
      if (top.dict && top.key !== null) throw new BencodeError('key without value');
      pos++;
      continue;
    }
    if (c === 0x64 /* d */ || c === 0x6c /* l */) {
      pos++;
      if (c === 0x64) {
        const dict = emptyDict();
        add(dict);
        stack.push({ dict, key: null });
      } else {
        const list: NgValue[] = [];
        add(list);
        stack.push({ list });
      }
      continue;
    }
    if (c === 0x69 /* i */) {
      pos++;
      while (pos < buf.length && (buf[pos] === 0x20 || buf[pos] === 0x09)) pos++;
      const start = pos;
      if (buf[pos] === 0x2d /* - */ || buf[pos] === 0x2b /* + */) pos++;
      const digits = pos;
      while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) pos++;
      if (pos === digits || buf[pos] !== 0x65) throw new BencodeError('bad integer');
      if (buf[digits] === 0x30 && pos - digits > 1) throw new BencodeError('integer with leading zero');
      add(Number(buf.toString('latin1', start, pos)));
      pos++;
      continue;
    }
    if (c >= 0x30 && c <= 0x39) {
      let len = 0;
      const digits = pos;
      while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) {
        len = len * 10 + (buf[pos]! - 0x30);
        if (len > buf.length) throw new BencodeError('string longer than the datagram');
        pos++;
      }
      if (buf[pos] !== 0x3a /* : */) throw new BencodeError('bad string length');
      if (buf[digits] === 0x30 && pos - digits > 1) throw new BencodeError('string length with leading zero');
      pos++;
      if (pos + len > buf.length) throw new BencodeError('string longer than the datagram');
      add(wireText(buf, pos, pos + len));
      pos += len;
      continue;
    }
    throw new BencodeError(`unexpected byte 0x${c.toString(16)}`);
  }
  return root;
}

/** `bencodeExtent`: more bytes are needed to tell. */
export const BENCODE_INCOMPLETE = -1;
/** `bencodeExtent`: the bytes cannot start a bencode value. */
export const BENCODE_INVALID = -2;

/**
 * Where the bencode value starting at `buf[start]` ends (the index after it), how a stream
 * transport finds the end of a message (rtpengine's `bencode_valid`); BENCODE_INCOMPLETE when
 * the buffer ends first, BENCODE_INVALID when it is not bencode. One pass, no recursion.
 */
export function bencodeExtent(buf: Buffer, start: number): number {
  /** Per open container: 0 list, 1 dict expecting a key, 2 dict expecting a value. */
  const open: number[] = [];
  let pos = start;
  for (;;) {
    if (pos >= buf.length) return BENCODE_INCOMPLETE;
    const c = buf[pos]!;
    const top = open.length > 0 ? open[open.length - 1]! : -1;
    if (c === 0x65 /* e */) {
      if (top === -1 || top === 2) return BENCODE_INVALID;
      open.pop();
      pos++;
    } else if (c === 0x64 /* d */ || c === 0x6c /* l */ || c === 0x69 /* i */) {
      if (top === 1) return BENCODE_INVALID;
      if (c === 0x69) {
        let p = pos + 1;
        if (buf[p] === 0x2d) p++;
        const digits = p;
        while (p < buf.length && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
        if (p >= buf.length) return BENCODE_INCOMPLETE;
        if (p === digits || buf[p] !== 0x65) return BENCODE_INVALID;
        pos = p + 1;
      } else {
        open.push(c === 0x64 ? 1 : 0);
        pos++;
        continue;
      }
    } else if (c >= 0x30 && c <= 0x39) {
      let len = 0;
      let p = pos;
      while (p < buf.length && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
        len = len * 10 + (buf[p]! - 0x30);
        if (len > 0x7fffffff) return BENCODE_INVALID;
        p++;
      }
      if (p >= buf.length) return BENCODE_INCOMPLETE;
      if (buf[p] !== 0x3a /* : */) return BENCODE_INVALID;
      if (p + 1 + len > buf.length) return BENCODE_INCOMPLETE;
      pos = p + 1 + len;
    } else return BENCODE_INVALID;
    // A value is complete: in a dict, a key is followed by its value and a value by a key.
    if (open.length === 0) return pos;
    const t = open.length - 1;
    if (open[t] === 1) open[t] = 2;
    else if (open[t] === 2) open[t] = 1;
  }
}
