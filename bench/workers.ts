/** Starting load workers (bench/LoadWorker.ts), collecting and merging their reports. */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { LatencyHistogram } from './LatencyHistogram.js';
import type { CoordinatorMessage, ProbeDone, ProbePlan, WorkerMessage, WorkerReady, WorkerReport } from './protocol.js';

const WORKER = resolve(import.meta.dirname, 'LoadWorker.js');

export interface Worker {
  child: ChildProcess;
  /** The worker's UDP port (on `bind`). */
  port: number;
}

export interface WorkerOptions {
  /** Address the worker's socket binds (default 127.0.0.1). */
  bind?: string;
  /** Network namespace to run the worker in (`ip netns exec`). */
  netns?: string;
}

export function startWorkers(n: number, o: WorkerOptions = {}): Promise<Worker[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<Worker>((res, rej) => {
    const args = o.bind ? [`--bind=${o.bind}`] : [];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    // `ip netns exec` execs node in place: the IPC channel and the PID carry over.
    const child = o.netns === undefined
      ? fork(WORKER, args, { stdio })
      : spawn('ip', ['netns', 'exec', o.netns, process.execPath, WORKER, ...args], { stdio });
    child.once('error', rej);
    child.once('exit', (code) => rej(new Error(`load worker exited (${code}) before it was ready`)));
    child.once('message', (m: WorkerMessage) => res({ child, port: (m as WorkerReady).port }));
  })));
}

export function tell(w: Worker, m: CoordinatorMessage): void {
  w.child.send(m);
}

export function reportOf(child: ChildProcess): Promise<WorkerReport> {
  return new Promise((res, rej) => {
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'report') res(m);
    });
    child.once('exit', (code) => rej(new Error(`load worker exited (${code}) before reporting`)));
  });
}

/** Sends a probe burst from one worker and resolves with its packets' send times. */
export function probe(w: Worker, p: Omit<ProbePlan, 'type'>): Promise<number[]> {
  return new Promise((res, rej) => {
    const gone = (code: number | null): void => rej(new Error(`load worker exited (${code}) during a probe`));
    const on = (m: WorkerMessage): void => {
      if (m.type !== 'probed') return;
      w.child.off('message', on);
      w.child.off('exit', gone);
      res((m as ProbeDone).sentAt);
    };
    w.child.on('message', on);
    w.child.once('exit', gone);
    w.child.send({ type: 'probe', ...p } satisfies ProbePlan);
  });
}

export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) if (w.child.exitCode === null && w.child.pid !== undefined) w.child.kill('SIGTERM');
}

/** The workers' reports added up. */
export interface LoadSummary {
  histogram: LatencyHistogram;
  sent: number;
  received: number;
  silentStreams: number;
  /** SRTP packets that arrived and did not authenticate. */
  authFailures: number;
  /** CPU of all workers over the measured window, µs. */
  cpuUs: number;
  wallMs: number;
}

export function summarize(reports: WorkerReport[]): LoadSummary {
  const s: LoadSummary = { histogram: new LatencyHistogram(), sent: 0, received: 0, silentStreams: 0, authFailures: 0, cpuUs: 0, wallMs: 0 };
  for (const r of reports) {
    const h = new LatencyHistogram();
    for (const [b, c] of r.latency) h.counts[b] = c;
    h.max = r.maxLatencyUs;
    s.histogram.merge(h);
    s.sent += r.sent;
    s.received += r.received;
    s.silentStreams += r.silentStreams;
    s.authFailures += r.authFailures;
    s.cpuUs += r.cpuUs;
    s.wallMs = Math.max(s.wallMs, r.wallMs);
  }
  return s;
}
