#!/usr/bin/env node
/**
 * Transcoding relay benchmark: C calls set up over NG the same way on every relay, each
 * converting both ways, both parties sending --rate packets/s of 20 ms audio (a seeded tone) for
 * --duration seconds. Modes: `pcma` (PCMU offer with transcode PCMA, answered PCMA), `opus`
 * (opus offer with transcode PCMU and mask opus, answered PCMU) and `plain` (PCMU both sides, no
 * conversion: what relaying alone costs in the same run). Reports the relay's CPU (from /proc),
 * CPU per converted stream and per packet, and how many packets arrived.
 *
 *   npm run build && node dist/bench/transcode-bench.js [--relays=ngrelay,rtpengine] [--modes=pcma,opus] [--calls=20] [--rate=50] [--duration=10]
 */
import type dgram from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AudioEncoder } from '../src/media/codecs/AudioCodec.js';
import { OpusEncoder } from '../src/media/codecs/Opus.js';
import { PcmaEncoder } from '../src/media/codecs/Pcma.js';
import { PcmuEncoder } from '../src/media/codecs/Pcmu.js';
import { loopbackSocket, mediaEndpoint, sleep } from './calls.js';
import { cpuModel, loadAverage, processCpuSeconds } from './procCpu.js';
import { freePort, logPath, RelayProcess, type RelayKind } from './RelayProcess.js';

const { values: opt } = parseArgs({
  options: {
    relays: { type: 'string', default: 'ngrelay,rtpengine' },
    modes: { type: 'string', default: 'pcma,opus' },
    calls: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
  },
});
const CALLS = Number(opt.calls);
const RATE = Number(opt.rate);
const DURATION = Number(opt.duration);

type Mode = 'pcma' | 'opus' | 'plain';
interface Side {
  pt: number;
  rtpmap: string[];
  enc: () => AudioEncoder;
  clock: number;
}
const PCMU: Side = { pt: 0, rtpmap: ['a=rtpmap:0 PCMU/8000'], enc: () => new PcmuEncoder(), clock: 8000 };
const PCMA: Side = { pt: 8, rtpmap: ['a=rtpmap:8 PCMA/8000'], enc: () => new PcmaEncoder(), clock: 8000 };
const OPUS: Side = { pt: 111, rtpmap: ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 minptime=10'], enc: () => new OpusEncoder(), clock: 48000 };
const MODES: Record<Mode, { caller: Side; callee: Side; codec: Record<string, string[]> }> = {
  pcma: { caller: PCMU, callee: PCMA, codec: { transcode: ['PCMA'] } },
  opus: { caller: OPUS, callee: PCMU, codec: { transcode: ['PCMU'], mask: ['opus'] } },
  plain: { caller: PCMU, callee: PCMU, codec: {} },
};

function sdp(port: number, side: Side): string {
  return ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${side.pt}`, ...side.rtpmap, 'a=sendrecv', ''].join('\r\n');
}

/** One second of 20 ms packets of a tone in the side's codec (cycled; sequence and timestamp per send). */
function frames(side: Side, freq: number): Buffer[] {
  const enc = side.enc();
  const rate = enc.sampleRate;
  const frame = rate / 50;
  const pcm = new Int16Array(rate);
  for (let i = 0; i < rate; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / rate));
  const out = new Uint8Array(1500);
  const list: Buffer[] = [];
  for (let f = 0; f < 50; f++) {
    const n = enc.encode(pcm.subarray(f * frame, (f + 1) * frame), frame, out);
    const p = Buffer.alloc(12 + n);
    p[0] = 0x80;
    p[1] = side.pt;
    p.set(out.subarray(0, n), 12);
    list.push(p);
  }
  enc.close();
  return list;
}

async function run(kind: RelayKind, mode: Mode): Promise<string> {
  const m = MODES[mode];
  const dir = mkdtempSync(join(tmpdir(), 'transcode-bench-'));
  const relay = await RelayProcess.launch({ kind, ngPort: await freePort(), cliPort: await freePort(), portMin: 30000, portMax: 39999, extraArgs: [], logFile: logPath(dir, kind) });
  const calls: { a: dgram.Socket; b: dgram.Socket; aTo: number; bTo: number }[] = [];
  let got = 0;
  try {
    for (let i = 0; i < CALLS; i++) {
      const a = await loopbackSocket();
      const b = await loopbackSocket();
      a.on('message', () => got++);
      b.on('message', () => got++);
      const id = `transcode-bench-${i}`;
      const o = await relay.ng.request({ command: 'offer', 'call-id': id, 'from-tag': 'a', sdp: sdp(a.address().port, m.caller), codec: m.codec, ICE: 'remove' });
      const an = await relay.ng.request({ command: 'answer', 'call-id': id, 'from-tag': 'a', 'to-tag': 'b', sdp: sdp(b.address().port, m.callee), ICE: 'remove' });
      calls.push({ a, b, aTo: mediaEndpoint(an['sdp']).port, bTo: mediaEndpoint(o['sdp']).port });
    }
    const fa = frames(m.caller, 440);
    const fb = frames(m.callee, 1000);
    let seq = 0;
    const tick = (): void => {
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i]!;
        for (const [sock, list, to, side, ssrc] of [[c.a, fa, c.aTo, m.caller, 0x1000 + i], [c.b, fb, c.bTo, m.callee, 0x2000 + i]] as const) {
          const p = Buffer.from(list[seq % 50]!);
          p.writeUInt16BE(seq & 0xffff, 2);
          p.writeUInt32BE((seq * side.clock) / 50, 4);
          p.writeUInt32BE(ssrc, 8);
          sock.send(p, to, '127.0.0.1');
        }
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
    const cpu = cpu1 - cpu0;
    const sent = Math.round(DURATION * RATE * 2 * CALLS);
    const perStream = (cpu * 100) / DURATION / (2 * CALLS);
    return `| ${kind} | ${mode} | ${CALLS} | ${got1 - got0} of ~${sent} | ${((cpu * 100) / DURATION).toFixed(1)} % | ${perStream.toFixed(3)} % | ${((cpu / Math.max(1, got1 - got0)) * 1e6).toFixed(1)} |`;
  } finally {
    for (const c of calls) {
      c.a.close();
      c.b.close();
    }
    await relay.stop();
  }
}

process.stdout.write(`Transcoding relay, 20 ms packets both ways, ${cpuModel()}, load ${loadAverage()}\n`);
process.stdout.write('| relay | mode | calls | packets arrived (window) | relay CPU | CPU per stream (one direction) | µs CPU per packet |\n|---|---|---:|---:|---:|---:|---:|\n');
for (const mode of opt.modes.split(',') as Mode[]) {
  for (const r of opt.relays.split(',')) process.stdout.write((await run(r.trim() as RelayKind, mode)) + '\n');
}
process.stdout.write(`load after: ${loadAverage()}\n`);
