#!/usr/bin/env node
/**
 * SRTP relay benchmark (SAVP <-> AVP): C calls, each with a plain RTP party and an SDES party
 * (AES_CM_128_HMAC_SHA1_80), set up over NG the same way on every relay; both parties send
 * --rate packets/s of 172-byte RTP for --duration seconds. The relay decrypts what the SDES
 * party sends and encrypts what it receives. Reports the relay's CPU time per relayed packet
 * (from /proc), and how many packets arrived. `--modes=srtp,plain` adds the same calls with both
 * parties plain, so that what SRTP adds on each relay shows in the same run. See docs/performance.md.
 *
 *   npm run build && node dist/bench/srtp-relay-bench.js [--relays=ngrelay,rtpengine] [--modes=srtp] [--threads=1,2] [--calls=50] [--rate=50] [--duration=15]
 */
import dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SrtpSession } from '../src/media/transforms/SrtpSession.js';
import { srtpSuite } from '../src/media/transforms/SrtpSuite.js';
import { cpuModel, loadAverage, processCpuSeconds } from './procCpu.js';
import { freePort, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'ngrelay,rtpengine' },
    calls: { type: 'string', default: '50' },
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '15' },
    modes: { type: 'string', default: 'srtp' },
    threads: { type: 'string', default: '1,2' },
    'ngrelay-arg': { type: 'string', multiple: true, default: [] },
  },
});
const CALLS = Number(opt.calls);
const RATE = Number(opt.rate);
const DURATION = Number(opt.duration);
const SUITE = srtpSuite('AES_CM_128_HMAC_SHA1_80')!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

function sdp(port: number, proto: string, extra: string[] = []): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', `m=audio ${port} ${proto} 0`, 'c=IN IP4 127.0.0.1', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${port}`, ...extra, ''].join('\r\n');
}

function rtp(seq: number, ssrc: number): Buffer {
  const p = Buffer.alloc(172);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

interface Call {
  plain: dgram.Socket;
  secure: dgram.Socket;
  plainTo: number;
  secureTo: number;
  tx: SrtpSession;
}

type Mode = 'srtp' | 'plain';

async function run(kind: RelayKind, extra: string[], mode: Mode): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'srtp-bench-'));
  const relay = await RelayProcess.launch({ kind, ngPort: await freePort(), cliPort: await freePort(), portMin: 30000, portMax: 39999, extraArgs: extra, logFile: logPath(dir, kind) });
  const calls: Call[] = [];
  let got = 0;
  try {
    for (let i = 0; i < CALLS; i++) {
      const plain = await socket();
      const secure = await socket();
      plain.on('message', () => got++);
      secure.on('message', () => got++);
      const key = Buffer.alloc(16, i + 1);
      const salt = Buffer.alloc(14, i + 2);
      const id = `srtp-bench-${i}`;
      const srtp = mode === 'srtp';
      const o = await relay.ng.request({ command: 'offer', 'call-id': id, 'from-tag': 'a', sdp: sdp(plain.address().port, 'RTP/AVP'), ...(srtp ? { 'transport-protocol': 'RTP/SAVP', DTLS: 'off', flags: ['SDES-no-AEAD_AES_256_GCM'] } : {}), ICE: 'remove' });
      const offered = String(o['sdp']);
      const tag = srtp ? /^a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 /m.exec(offered)![1] : '';
      const lines = srtp ? [`a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:${Buffer.concat([key, salt]).toString('base64')}`] : [];
      const a = await relay.ng.request({ command: 'answer', 'call-id': id, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(secure.address().port, srtp ? 'RTP/SAVP' : 'RTP/AVP', lines), ICE: 'remove' });
      const port = (s: unknown): number => Number(/^m=audio (\d+)/m.exec(String(s))![1]);
      calls.push({ plain, secure, plainTo: port(a['sdp']), secureTo: port(offered), tx: new SrtpSession(SUITE, key, salt) });
    }
    // Pre-encrypt what the SDES parties send, so the generator's own crypto is not in the window.
    const n = RATE * (DURATION + 2);
    const wire = calls.map((c, i) => Array.from({ length: n }, (_, s) => (mode === 'srtp' ? c.tx.protectRtp(rtp(s, 0x1000 + i))! : rtp(s, 0x1000 + i))));
    const plainPkts = calls.map((_, i) => Array.from({ length: n }, (_, s) => rtp(s, 0x2000 + i)));
    let seq = 0;
    const tick = (): void => {
      const k = Math.min(seq, n - 1);
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i]!;
        c.plain.send(plainPkts[i]![k]!, c.plainTo, '127.0.0.1');
        c.secure.send(wire[i]![k]!, c.secureTo, '127.0.0.1');
      }
      seq++;
    };
    const timer = setInterval(tick, 1000 / RATE);
    await sleep(2000);
    const cpu0 = processCpuSeconds(relay.pid);
    const got0 = got;
    await sleep(DURATION * 1000);
    const cpu1 = processCpuSeconds(relay.pid);
    const got1 = got;
    clearInterval(timer);
    const sent = Math.round(DURATION * RATE * 2 * CALLS);
    const perPacket = ((cpu1 - cpu0) / Math.max(1, got1 - got0)) * 1e6;
    return `| ${kind} ${extra.join(' ')} | ${mode} | ${CALLS} | ${RATE * 2 * CALLS} | ${got1 - got0} of ~${sent} | ${((cpu1 - cpu0) * 100 / DURATION).toFixed(1)} % | ${perPacket.toFixed(2)} |`;
  } finally {
    for (const c of calls) {
      c.plain.close();
      c.secure.close();
    }
    await relay.stop();
  }
}

process.stdout.write(`SRTP relay (RTP/AVP <-> RTP/SAVP AES_CM_128_HMAC_SHA1_80), ${cpuModel()}, load ${loadAverage()}\n`);
process.stdout.write('| relay | media | calls | pkt/s offered | packets arrived (window) | relay CPU | µs CPU per packet |\n|---|---|---:|---:|---:|---:|---:|\n');
for (const r of opt.relays.split(',')) {
  const kind = r.trim() as RelayKind;
  const variants = kind === 'ngrelay' ? opt.threads.split(',').map((t) => [`--num-threads=${t.trim()}`, ...opt['ngrelay-arg']]) : [[]];
  for (const mode of opt.modes.split(',') as Mode[]) for (const v of variants) process.stdout.write((await run(kind, v, mode)) + '\n');
}
process.stdout.write(`load after: ${loadAverage()}\n`);
