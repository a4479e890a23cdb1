#!/usr/bin/env node
/**
 * SRTP micro-benchmark: CPU time per packet of ngrelay's SRTP transform (protect = encrypt and
 * authenticate, unprotect = verify, replay check, decrypt) for G.711-sized RTP (172 bytes), per
 * suite, on this thread. The relay's own overhead (socket, learning, counters) is measured by
 * relay-bench; this isolates what SRTP adds. See docs/performance.md.
 *
 *   npm run build && node dist/bench/srtp-bench.js [--packets=200000]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SrtpSession } from '../src/media/transforms/SrtpSession.js';
import { srtpSuite } from '../src/media/transforms/SrtpSuite.js';

const { values: opt } = parseArgs({ options: { packets: { type: 'string', default: '200000' } } });
const N = Number(opt.packets);
const SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AES_256_CM_HMAC_SHA1_80', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'NULL_HMAC_SHA1_80'];

function packet(seq: number): Buffer {
  const p = Buffer.alloc(172);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(0x12345678, 8);
  return p;
}

const cpuNs = (): bigint => {
  const u = process.cpuUsage();
  return BigInt(u.user + u.system) * 1000n;
};

process.stdout.write(`SRTP per packet, 172-byte RTP, ${N} packets per run, ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}\n`);
process.stdout.write('| suite | protect ns/pkt | unprotect ns/pkt | both (one relayed SRTP->SRTP packet) |\n|---|---:|---:|---:|\n');
for (const name of SUITES) {
  const suite = srtpSuite(name)!;
  const key = randomBytes(suite.keyLength);
  const salt = randomBytes(suite.saltLength);
  const tx = new SrtpSession(suite, key, salt);
  const rx = new SrtpSession(suite, key, salt);
  const plain = Array.from({ length: 1024 }, (_, i) => packet(i));
  // Warm up (JIT, OpenSSL contexts).
  for (let i = 0; i < 20000; i++) rx.unprotectRtp(tx.protectRtp(packet(i))!);
  const wire: Buffer[] = new Array(N);
  let t0 = cpuNs();
  for (let i = 0; i < N; i++) {
    const p = plain[i & 1023]!;
    p.writeUInt16BE((20000 + i) & 0xffff, 2);
    wire[i] = tx.protectRtp(p)!;
  }
  const protect = Number(cpuNs() - t0) / N;
  t0 = cpuNs();
  let bad = 0;
  for (let i = 0; i < N; i++) if (rx.unprotectRtp(wire[i]!) === null) bad++;
  const unprotect = Number(cpuNs() - t0) / N;
  if (bad) throw new Error(`${name}: ${bad} packets failed`);
  process.stdout.write(`| ${name} | ${protect.toFixed(0)} | ${unprotect.toFixed(0)} | ${(protect + unprotect).toFixed(0)} |\n`);
}
