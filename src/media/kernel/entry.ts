import { isIPv4 } from 'node:net';

/**
 * The fast-path map's key and value (fastpath.h), as the hex text the loader reads. Layout:
 * key = family u8, 3 pad, src[16], dst[16], sport be16, dport be16 (40 bytes); a target =
 * src[16], dst[16], sport be16, dport be16 (36 bytes); the value sent = RTP target, then the
 * muxed-RTCP target (all zero when none).
 */
export interface FlowEnds {
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

const KEY_BYTES = 40;
const TARGET_BYTES = 36;

/** An IP literal as 16 bytes (IPv4 in the first four). */
export function addressBytes(address: string, out: Buffer, at: number): void {
  if (isIPv4(address)) {
    const p = address.split('.');
    for (let i = 0; i < 4; i++) out[at + i] = Number(p[i]);
    return;
  }
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const tail: number[] = [];
  const [head, rest] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const parse = (part: string, into: number[]): void => {
    if (part === '') return;
    for (const g of part.split(':')) {
      if (isIPv4(g)) {
        const q = g.split('.').map(Number);
        into.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else into.push(parseInt(g, 16));
    }
  };
  parse(head, groups);
  if (rest !== undefined) parse(rest, tail);
  const all = [...groups, ...new Array<number>(8 - groups.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(all[i]! & 0xffff, at + 2 * i);
}

export function keyHex(family: 4 | 6, e: FlowEnds): string {
  const b = Buffer.alloc(KEY_BYTES);
  b[0] = family;
  addressBytes(e.srcAddress, b, 4);
  addressBytes(e.dstAddress, b, 20);
  b.writeUInt16BE(e.srcPort, 36);
  b.writeUInt16BE(e.dstPort, 38);
  return b.toString('hex');
}

function target(e: FlowEnds | null, b: Buffer, at: number): void {
  if (!e) return;
  addressBytes(e.srcAddress, b, at);
  addressBytes(e.dstAddress, b, at + 16);
  b.writeUInt16BE(e.srcPort, at + 32);
  b.writeUInt16BE(e.dstPort, at + 34);
}

export function valueHex(rtp: FlowEnds, rtcp: FlowEnds | null): string {
  const b = Buffer.alloc(2 * TARGET_BYTES);
  target(rtp, b, 0);
  target(rtcp, b, TARGET_BYTES);
  return b.toString('hex');
}
