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
const BATCH = 1024;
const WARMUP = 50_000;
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
  const tx = new SrtpSession(suite, key, salt, true);
  const rx = new SrtpSession(suite, key, salt);
  const plain = Array.from({ length: BATCH }, (_, i) => packet(i));
  const wire: Buffer[] = new Array(BATCH);
  let seq = 0;
  let protect = 0n;
  let unprotect = 0n;
  let bad = 0;
  // Batches of packets protected, then unprotected: only a batch is kept, so what is timed is
  // the transform and its own garbage, not the benchmark's.
  const run = (packets: number): void => {
    for (let done = 0; done < packets; done += BATCH) {
      let t0 = cpuNs();
      for (let i = 0; i < BATCH; i++) {
        const p = plain[i]!;
        p.writeUInt16BE(seq++ & 0xffff, 2);
        wire[i] = tx.protectRtp(p)!;
      }
      protect += cpuNs() - t0;
      t0 = cpuNs();
      for (let i = 0; i < BATCH; i++) if (rx.unprotectRtp(wire[i]!) === null) bad++;
      unprotect += cpuNs() - t0;
    }
  };
  run(WARMUP);
  protect = 0n;
  unprotect = 0n;
  run(N);
  const ns = (t: bigint): number => Number(t) / (Math.ceil(N / BATCH) * BATCH);
  if (bad) throw new Error(`${name}: ${bad} packets failed`);
  process.stdout.write(`| ${name} | ${ns(protect).toFixed(0)} | ${ns(unprotect).toFixed(0)} | ${(ns(protect) + ns(unprotect)).toFixed(0)} |\n`);
}
