import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentSocket, NetLab } from './NetLab.js';
import { ROOT, waitFor, type Relay } from './Relay.js';
import { audioSdp, readSdp } from './sdp.js';
import { listTotalsValue } from './stats.js';

/** What the kernel fast-path tests need built; fails (never skips) naming the fix. */
export function kernelPreflight(): void {
  for (const f of ['dist/kernel/ngrelay-kernel', 'dist/kernel/fastpath.bpf.o']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: 'npm run build' builds it when clang and libbpf-dev are installed (.ci/run installs them)`);
  }
}

export function rtp(seq: number, ssrc: number, size = 160): Buffer {
  const b = Buffer.alloc(12 + size, seq & 0xff);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

export function rtcp(ssrc: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x81;
  b[1] = 200; // SR
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc, 4);
  return b;
}

/** `n` RTP packets of one SSRC from sequence number `from` on. */
export const rtpRun = (from: number, n: number, ssrc: number): Buffer[] => Array.from({ length: n }, (_, i) => rtp(from + i, ssrc));

/** Sends the packets and waits until `to` has them all (or fails naming how many arrived). */
export async function burst(from: AgentSocket, to: AgentSocket, dst: string, port: number, packets: Buffer[]): Promise<void> {
  const before = to.received.length;
  for (const p of packets) from.send(p, port, dst);
  await waitFor(`${packets.length} packets at ${to.address}:${to.port} (got ${to.received.length - before})`, () => to.received.length - before >= packets.length, 5000, 20);
}

/** Offer from A, answer from B; the relay's ports where B sends (toA) and where A sends (toB). */
export async function kernelCall(
  relay: Relay, callId: string, a: { address: string; port: number }, b: { address: string; port: number },
  o: { muxA?: boolean; muxB?: boolean; flags?: string[]; offer?: Record<string, unknown>; direction?: [string, string] } = {},
): Promise<{ toA: number; toB: number }> {
  const extra = (m?: boolean): string[] => (m ? ['a=rtcp-mux'] : []);
  const flags = o.flags ?? [];
  const v6 = a.address.includes(':');
  const dir = (d?: [string, string]): Record<string, unknown> => (d ? { direction: d } : {});
  const offer = await relay.ng.ok({
    command: 'offer', 'call-id': callId, 'from-tag': 'A', replace: ['origin', 'session-connection'], flags, ...dir(o.direction),
    sdp: audioSdp(a.address, a.port, { extra: extra(o.muxA) }), ...(v6 ? { 'address family': 'IP6' } : {}), ...o.offer,
  });
  const an = await relay.ng.ok({
    command: 'answer', 'call-id': callId, 'from-tag': 'A', 'to-tag': 'B', flags, ...dir(o.direction && [o.direction[1], o.direction[0]]),
    sdp: audioSdp(b.address, b.port, { extra: extra(o.muxB) }),
  });
  return { toA: readSdp(offer['sdp'] as string).medias[0]!.port, toB: readSdp(an['sdp'] as string).medias[0]!.port };
}

/** Ports of a call that `list sessions` shows relayed in the kernel. */
export const kernelLegs = async (relay: Relay, callId: string): Promise<number> =>
  (await relay.cli(`list sessions ${callId}`)).split('\n').filter((l) => l.endsWith(', kernel')).length;
export const userspacePackets = (relay: Relay): Promise<number> => listTotalsValue(relay, 'Total relayed packets (userspace)');
export const kernelPackets = (relay: Relay): Promise<number> => listTotalsValue(relay, 'Total relayed packets (kernel)');

/** The fast-path loader the relay runs (its child in the relay's namespace). */
export function loaderPid(lab: NetLab, host: string, relay: Relay): number {
  const out = spawnSync('ip', ['netns', 'exec', lab.ns(host), 'pgrep', '-P', String(relay.pid), '-f', 'ngrelay-kernel'], { encoding: 'utf8' }).stdout.trim();
  if (!out) throw new Error(`no ngrelay-kernel child of ${relay.pid}`);
  return Number(out.split('\n')[0]);
}

/** The BPF program and map a loader holds, from its file descriptors. */
export function loaderObjects(pid: number): { prog: number; map: number } {
  let prog = NaN;
  let map = NaN;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const p = /^prog_id:\s*(\d+)/m.exec(info);
    const m = /^map_id:\s*(\d+)/m.exec(info);
    if (p) prog = Number(p[1]);
    if (m && /^map_type:\s*1$/m.test(info)) map = Number(m[1]);
  }
  if (Number.isNaN(prog) || Number.isNaN(map)) throw new Error(`loader ${pid} holds no fast-path program or map`);
  return { prog, map };
}

/** Whether a BPF program is still loaded anywhere (attached or held). */
export const programLoaded = (id: number): boolean => spawnSync('bpftool', ['prog', 'show', 'id', String(id)]).status === 0;

/** Every entry of a fast-path map with its counters. */
export function mapDump(id: number): { key: number[]; value: number[] }[] {
  const dump = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (dump.status !== 0) throw new Error(`bpftool map dump id ${id}: ${dump.stderr}`);
  return (JSON.parse(dump.stdout) as { key: string[]; value: string[] }[]).map((e) => ({ key: e.key.map(Number), value: e.value.map(Number) }));
}

/**
 * Sum of one u64 counter over the map's entries: `packets` (offset 80) or `to_userspace` (offset
 * 120), little-endian as on x86 and arm64 (struct ngr_value in fastpath.h).
 */
export function mapCounter(id: number, field: 'packets' | 'toUserspace'): number {
  const at = field === 'packets' ? 80 : 120;
  let sum = 0;
  for (const e of mapDump(id)) sum += Number(Buffer.from(e.value).readBigUInt64LE(at));
  return sum;
}
