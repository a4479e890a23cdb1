import { openSync, writeSync, closeSync } from 'node:fs';
import { isIPv6 } from 'node:net';

/** LINKTYPE_RAW (bare IP) or LINKTYPE_ETHERNET, as `recording-format=raw|eth` asks. */
export type PcapFormat = 'raw' | 'eth';

function ipBytes(address: string): Buffer {
  if (!isIPv6(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return b;
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** Builds the IP + UDP headers a capture tool expects around a relayed payload. */
export function udpFrame(payload: Buffer, src: string, sport: number, dst: string, dport: number): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  if (isIPv6(src)) {
    const ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(8 + payload.length, 4);
    ip[6] = 17;
    ip[7] = 64;
    ipBytes(src).copy(ip, 8);
    ipBytes(dst).copy(ip, 24);
    return Buffer.concat([ip, udp, payload]);
  }
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ipBytes(src).copy(ip, 12);
  ipBytes(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, udp, payload]);
}

/** A pcap file of one call's relayed packets. */
export class PcapWriter {
  private fd: number | null;

  constructor(
    readonly path: string,
    private readonly format: PcapFormat,
  ) {
    this.fd = openSync(path, 'w');
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0);
    hdr.writeUInt16LE(2, 4);
    hdr.writeUInt16LE(4, 6);
    hdr.writeUInt32LE(65535, 16);
    hdr.writeUInt32LE(format === 'eth' ? 1 : 101, 20);
    writeSync(this.fd, hdr);
  }

  packet(payload: Buffer, src: string, sport: number, dst: string, dport: number): void {
    if (this.fd === null) return;
    let frame = udpFrame(payload, src, sport, dst, dport);
    if (this.format === 'eth') {
      const eth = Buffer.alloc(14);
      eth.writeUInt16BE(isIPv6(src) ? 0x86dd : 0x0800, 12);
      frame = Buffer.concat([eth, frame]);
    }
    const now = Date.now();
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(now / 1000), 0);
    rec.writeUInt32LE((now % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    writeSync(this.fd, Buffer.concat([rec, frame]));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
