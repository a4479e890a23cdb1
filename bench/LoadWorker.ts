/**
 * A load worker: plays the phones of a share of the calls through ONE UDP socket, sends
 * G.711-sized RTP at a fixed rate per stream and timestamps every packet (monotonic clock,
 * shared by all processes) so that its arrival through the relay, at this worker or at
 * another one, gives the latency. Runs as a child of relay-bench or kernel-bench;
 * `--bind=ADDRESS` (default 127.0.0.1) is the address its socket binds.
 */
import dgram from 'node:dgram';
import { SrtpSession } from '../src/media/transforms/SrtpSession.js';
import { srtpSuite } from '../src/media/transforms/SrtpSuite.js';
import { monoMs } from './clock.js';
import { LatencyHistogram } from './LatencyHistogram.js';
import type { CoordinatorMessage, LoadPlan, ProbePlan, WorkerMessage } from './protocol.js';

const RTP_HEADER = 12;
const PAYLOAD = 160;
const PACKET = RTP_HEADER + PAYLOAD;
/** Payload layout: float64 send time (monoMs), uint32 stream, uint8 measured flag. */
const AT = RTP_HEADER;
const STREAM = RTP_HEADER + 8;
const MEASURED = RTP_HEADER + 12;
/** Packets in flight reuse buffers from a ring this large; sends complete long before it wraps. */
const RING = 8192;
const SOCKET_BUFFER = 4 * 1024 * 1024;
const SUITE = srtpSuite('AES_CM_128_HMAC_SHA1_80')!;

function session(keyAndSalt: string | null | undefined, protects: boolean): SrtpSession | null {
  if (!keyAndSalt) return null;
  const k = Buffer.from(keyAndSalt, 'base64');
  return new SrtpSession(SUITE, k.subarray(0, SUITE.keyLength), k.subarray(SUITE.keyLength), protects);
}

function literalLookup(address: string, _o: unknown, cb: (e: Error | null, a: string, f: number) => void): void {
  cb(null, address, 4);
}

function send(m: WorkerMessage, then?: () => void): void {
  process.send!(m, undefined, {}, () => then?.());
}

const socket = dgram.createSocket({
  type: 'udp4',
  lookup: literalLookup as unknown as dgram.SocketOptions['lookup'],
  recvBufferSize: SOCKET_BUFFER,
  sendBufferSize: SOCKET_BUFFER,
});

function run(plan: LoadPlan): void {
  const streams = plan.destinations.length;
  const histogram = new LatencyHistogram();
  const receivedPerStream = new Uint32Array(streams);
  let received = 0;
  let sentMeasured = 0;
  let sendErrors = 0;
  let authFailures = 0;
  // SDES streams: the sender protects each packet when it sends it (its time stamp is in the payload).
  const protect = Array.from({ length: streams }, (_, i) => session(plan.srtp?.[i]?.send, true));
  const unprotect = Array.from({ length: streams }, (_, i) => session(plan.srtp?.[i]?.recv, false));

  const startPerf = monoMs() + (plan.startAt - Date.now());
  const measureFrom = startPerf + plan.warmupMs;
  const stopAt = measureFrom + plan.durationMs;
  const total = Math.floor(((plan.warmupMs + plan.durationMs) / 1000) * plan.packetsPerSecond) * streams;
  const perMs = (streams * plan.packetsPerSecond) / 1000;
  const maxBurst = Math.max(16, Math.ceil(perMs * 4));

  const ring: Buffer[] = [];
  const slab = Buffer.alloc(RING * PACKET);
  for (let i = 0; i < RING; i++) {
    const b = slab.subarray(i * PACKET, (i + 1) * PACKET);
    b[0] = 0x80; // RTP v2
    b[1] = 0; // PT 0 (PCMU)
    ring.push(b);
  }
  const ssrcBase = (process.pid << 12) >>> 0;

  socket.on('message', (arrived: Buffer) => {
    const now = monoMs();
    let msg = arrived;
    if (msg.length > PACKET) {
      // Every stream's SSRC is ours (ssrcBase + stream): it names the session to unprotect with.
      const rx = unprotect[(msg.readUInt32BE(8) - ssrcBase) >>> 0];
      const plain = rx ? rx.unprotectRtp(msg) : null;
      if (plain === null) {
        authFailures++;
        return;
      }
      msg = plain;
    }
    if (msg.length !== PACKET || msg[MEASURED] !== 1) return;
    received++;
    receivedPerStream[msg.readUInt32LE(STREAM) % streams]!++;
    histogram.record((now - msg.readDoubleLE(AT)) * 1000);
  });

  let sent = 0;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  let wallAtStart = 0;
  // Without a callback dgram sends synchronously when it can and reports failures here.
  socket.on('error', () => sendErrors++);
  const tick = (): void => {
    const now = monoMs();
    if (now < startPerf) return;
    if (cpuAtStart === null && now >= measureFrom) {
      cpuAtStart = process.cpuUsage();
      wallAtStart = now;
    }
    // Catch up at most a few ms of schedule per wake-up so that receiving is never starved;
    // a generator that falls behind shows as a send rate below the plan's.
    const due = Math.min(total, Math.floor((now - startPerf) * perMs), sent + maxBurst);
    while (sent < due) {
      const stream = sent % streams;
      const seq = Math.floor(sent / streams);
      const b = ring[sent % RING]!;
      b.writeUInt16BE(seq & 0xffff, 2);
      b.writeUInt32BE((seq * PAYLOAD) >>> 0, 4);
      b.writeUInt32BE((ssrcBase + stream) >>> 0, 8);
      const at = monoMs();
      const measured = at >= measureFrom && at < stopAt;
      b.writeDoubleLE(at, AT);
      b.writeUInt32LE(stream, STREAM);
      b[MEASURED] = measured ? 1 : 0;
      const tx = protect[stream];
      if (tx) socket.send(tx.protectRtp(b)!, plan.destinations[stream]!, plan.relayHost);
      else socket.send(b, 0, PACKET, plan.destinations[stream]!, plan.relayHost);
      if (measured) sentMeasured++;
      sent++;
    }
    if (sent >= total || monoMs() >= stopAt) {
      clearInterval(timer);
      setTimeout(() => report(), plan.drainMs);
    }
  };
  const timer = setInterval(tick, 1);

  const report = (): void => {
    const cpu = process.cpuUsage(cpuAtStart ?? undefined);
    const latency: [number, number][] = [];
    histogram.counts.forEach((c, i) => {
      if (c > 0) latency.push([i, c]);
    });
    let silent = 0;
    for (const n of receivedPerStream) if (n === 0) silent++;
    send({
      type: 'report',
      sent: sentMeasured,
      received,
      silentStreams: silent,
      sendErrors,
      authFailures,
      latency,
      maxLatencyUs: histogram.max,
      cpuUs: cpu.user + cpu.system,
      wallMs: monoMs() - wallAtStart,
    }, () => {
      // Leave only once the report is on its way: exiting first can lose it.
      socket.close();
      process.disconnect();
    });
  };
}

const nap = new Int32Array(new SharedArrayBuffer(4));

/** Probe packets at exact spacing: the worker sleeps between them in the kernel (futex), not on the event loop. */
function probe(p: ProbePlan): void {
  const b = Buffer.alloc(PACKET);
  b[0] = 0x80;
  b.writeUInt32BE((0xfeed0000 | (process.pid & 0xffff)) >>> 0, 8);
  const sentAt: number[] = [];
  let due = p.startAtMono;
  for (let i = 0; i < p.count; i++, due += p.intervalMs) {
    let now = monoMs();
    while (now < due) {
      if (due - now > 0.02) Atomics.wait(nap, 0, 0, due - now);
      now = monoMs();
    }
    b.writeUInt16BE(i & 0xffff, 2);
    b.writeDoubleLE(now, AT);
    socket.send(b, 0, PACKET, p.port, p.host);
    sentAt.push(now);
  }
  send({ type: 'probed', sentAt });
}

process.on('message', (m: CoordinatorMessage) => {
  if (m.type === 'plan') run(m);
  else if (m.type === 'probe') probe(m);
});
const bindArg = process.argv.find((a) => a.startsWith('--bind='));
socket.bind(0, bindArg ? bindArg.slice(7) : '127.0.0.1', () => send({ type: 'ready', port: socket.address().port }));
