import { readFileSync } from 'node:fs';

/**
 * The UDP payloads of a pcap file written by the relay (link type raw IP or Ethernet, IPv4 or
 * IPv6), read without tshark: a quick look at what a recording holds.
 */
export function udpPayloads(file: string): Buffer[] {
  const b = readFileSync(file);
  if (b.length < 24) return [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (at: number): number => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const linkType = u32(20);
  const out: Buffer[] = [];
  for (let at = 24; at + 16 <= b.length; ) {
    const caplen = u32(at + 8);
    let ip = b.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    if (linkType === 1) ip = ip.subarray(14);
    const v6 = ip[0]! >> 4 === 6;
    const udp = ip.subarray(v6 ? 40 : (ip[0]! & 0x0f) * 4);
    out.push(udp.subarray(8));
  }
  return out;
}
