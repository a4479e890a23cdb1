import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { expect } from 'vitest';
import { waitFor, type Relay } from './Relay.js';

/** The seeded generator the benchmarks use (mulberry32): the same seed, the same run. */
export { rng } from '../../bench/seeded.js';

/** Open file descriptors of a process (sockets, files, the event loop's own). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The UDP ports in [min, max] that sockets of this very process are bound to (IPv4 and IPv6; or on one IPv4 address). */
export function boundUdpPorts(pid: number, min: number, max: number, ipv4?: string): number[] {
  // /proc/net/udp writes an IPv4 address as its 32 bits in host (little-endian) order.
  const want = ipv4?.split('.').reverse().map((b) => Number(b).toString(16).padStart(2, '0')).join('').toUpperCase();
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ['udp', 'udp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [address, hexPort] = f[1]!.split(':') as [string, string];
      if (want !== undefined && address !== want) continue;
      const port = parseInt(hexPort, 16);
      if (port >= min && port <= max) ports.push(port);
    }
  }
  return ports.sort((a, b) => a - b);
}

/** Resident set size of a process in kB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

/** Ports in use on each interface, from `list interfaces`. */
export async function portsUsed(relay: Relay): Promise<number> {
  const text = await relay.cli('list interfaces');
  const used = [...text.matchAll(/Ports used:\s+(\d+)/g)].map((m) => Number(m[1]));
  if (used.length === 0) throw new Error(`no 'Ports used' in:\n${text}`);
  return used.reduce((a, b) => a + b, 0);
}

/**
 * What must hold after any abuse: the process lives, answers ping at once, the CLI and NG
 * agree on the number of calls, and with every call gone no port and no socket is left.
 */
export async function expectHealthy(relay: Relay, baselineFds: number): Promise<void> {
  expect(relay.proc.exitCode, relay.output.slice(-2000)).toBeNull();
  expect((await relay.ng.raw('d7:command4:pinge', undefined, 1000)).toString()).toBe('d6:result4:ponge');
  const listed = ((await relay.ng.request({ command: 'list', limit: 100000 }))['calls'] as unknown[]).length;
  const numsessions = /Current sessions total: (\d+)/.exec(await relay.cli('list numsessions'));
  expect(Number(numsessions?.[1])).toBe(listed);
  expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
  expect(await relay.cli('list numsessions')).toContain('Current sessions total: 0\n');
  expect(await portsUsed(relay)).toBe(0);
  // Sockets close on the next loop turn.
  await waitFor(`file descriptors back to ${baselineFds} (now ${fdCount(relay.pid)})`, () => fdCount(relay.pid) <= baselineFds, 5000);
}
