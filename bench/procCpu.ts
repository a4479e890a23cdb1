import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond = 0;

/** utime+stime of a process (all its threads) in seconds, from /proc/PID/stat. */
export function processCpuSeconds(pid: number): number {
  const t = processCpuTimes(pid);
  return t.user + t.system;
}

/** utime and stime of a process (all its threads) in seconds: its own code, and the kernel's work for it (system calls). */
export function processCpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces; fields after the closing parenthesis start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / ticks(), system: Number(fields[12]) / ticks() };
}

export function cpuModel(): string {
  const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? m[1]! : 'unknown';
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** Resident set size of a process in MB, from /proc/PID/status. */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Peak resident set size (VmHWM) of a process in MB. */
export function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function ticks(): number {
  if (ticksPerSecond === 0) ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticksPerSecond;
}

/** The machine's CPU time by kind, in seconds summed over all CPUs (first line of /proc/stat). */
export interface SystemCpu {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/).slice(1).map((x) => Number(x) / ticks());
  return { user: f[0]!, nice: f[1]!, system: f[2]!, idle: f[3]!, iowait: f[4]!, irq: f[5]!, softirq: f[6]!, steal: f[7] ?? 0 };
}

/** Busy time (everything but idle, iowait and steal), and the interrupt part of it. */
export function busySeconds(c: SystemCpu): number {
  return c.user + c.nice + c.system + c.irq + c.softirq;
}

export function cpuDelta(a: SystemCpu, b: SystemCpu): SystemCpu {
  const d = {} as SystemCpu;
  for (const k of Object.keys(a) as (keyof SystemCpu)[]) d[k] = b[k] - a[k];
  return d;
}

/** A process's living descendants (children of all its threads, recursively). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of text.trim().split(/\s+/).filter((x) => x !== '')) {
      out.push(Number(c), ...descendants(Number(c)));
    }
  }
  return out;
}

/** CPU seconds of several processes that may have exited (then they count 0). */
export function processesCpuSeconds(pids: number[]): number {
  let s = 0;
  for (const p of pids) {
    try {
      s += processCpuSeconds(p);
    } catch {
      /* gone */
    }
  }
  return s;
}

/** The kernel's softirq threads (one per CPU): network work deferred from interrupted tasks runs there. */
export function ksoftirqdPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').startsWith('ksoftirqd/')) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** UDP datagrams delivered to sockets of the caller's network namespace so far (Udp InDatagrams). */
export function udpInDatagrams(): number {
  const lines = readFileSync('/proc/self/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('InDatagrams')]);
}

export function kernelRelease(): string {
  return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
}
