import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import readline from 'node:readline';

/** Where `npm run build` puts the fast-path program and its loader. */
export const KERNEL_DIR = join(import.meta.dirname, '../../../kernel');
export const HELPER_BIN = join(KERNEL_DIR, 'ngrelay-kernel');
export const BPF_OBJECT = join(KERNEL_DIR, 'fastpath.bpf.o');

export class KernelHelperError extends Error {}

/**
 * How long the loader may leave a request unanswered (no reply line at all) before it counts as
 * hung: it answers in microseconds, a dump of 10,000 calls takes tens of ms.
 */
export const REPLY_DEADLINE_MS = 3000;
const START_DEADLINE_MS = 10_000;

/** Counters of one map entry, as the helper reports them. */
export interface EntryCounts {
  packets: number;
  bytes: number;
  errors: number;
  /** CLOCK_MONOTONIC ns of the last packet (0 = none). */
  lastNs: bigint;
  ssrc: number;
  /** Packets the program left to the relay's socket (no route, or the next hop not resolved yet). */
  toUserspace: number;
}

interface Pending {
  resolve(lines: string[]): void;
  reject(e: Error): void;
  /** Replies of several lines end with a line starting `end`. */
  multi: boolean;
  lines: string[];
}

/**
 * The long-lived loader process (`ngrelay-kernel`): one command per line on its stdin, one
 * reply per command in order, so every update gets its own error and no process is started
 * per call. A loader that leaves a request unanswered for REPLY_DEADLINE_MS is killed: its
 * programs go with it (see helper.c), every request waiting on it is rejected, and its owner
 * hears of it as of any other death.
 */
export class KernelHelper {
  private readonly pending: Pending[] = [];
  private exitHandler: ((reason: string) => void) | null = null;
  private eventHandler: ((event: string) => void) | null = null;
  private dead = false;
  /** Why it was killed, when it was (it hung); reported instead of the bare signal. */
  private killedFor: string | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /** Replies received: the watchdog checks for progress, not for each request's age. */
  private progress = 0;
  private progressAtCheck = 0;

  private constructor(private readonly proc: ChildProcess) {}

  /** Starts the loader for `table`; rejects with why the fast path cannot run here. */
  static async start(table: number): Promise<KernelHelper> {
    if (!existsSync(HELPER_BIN) || !existsSync(BPF_OBJECT)) {
      throw new KernelHelperError(`${HELPER_BIN} was not built (needs clang and libbpf-dev when running 'npm run build')`);
    }
    const proc = spawn(HELPER_BIN, [BPF_OBJECT, String(table)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const helper = new KernelHelper(proc);
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const lines = readline.createInterface({ input: proc.stdout! });
    await new Promise<void>((resolve, reject) => {
      const onFirst = (line: string): void => {
        if (line === 'ready') {
          lines.off('line', onFirst);
          lines.on('line', (l) => helper.onLine(l));
          resolve();
        } else reject(new KernelHelperError(line.replace(/^fatal /, '')));
      };
      lines.on('line', onFirst);
      proc.once('error', (e) => reject(new KernelHelperError(e.message)));
      proc.once('exit', (code, signal) => reject(new KernelHelperError(`exited (${signal ?? code}) ${stderr.trim()}`)));
      // Loading and verifying the program takes milliseconds; a loader stuck at it is killed.
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new KernelHelperError(`not ready within ${START_DEADLINE_MS} ms; killed`));
      }, START_DEADLINE_MS);
      timer.unref();
      proc.once('exit', () => clearTimeout(timer));
      lines.once('line', () => clearTimeout(timer));
    });
    proc.once('exit', (code, signal) => helper.onExit(helper.killedFor ?? `exited (${signal ?? code}) ${stderr.trim()}`));
    proc.stdin!.on('error', () => undefined);
    return helper;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  onUnexpectedExit(handler: (reason: string) => void): void {
    this.exitHandler = handler;
  }

  /** Lines the loader sends of its own accord (`ev ...`, without the prefix). */
  onEvent(handler: (event: string) => void): void {
    this.eventHandler = handler;
  }

  /** One command, one reply line: `ok ...` resolves with what follows `ok`, `err ...` rejects. */
  async command(line: string): Promise<string> {
    const [reply] = await this.send(line, false);
    if (reply === undefined || reply.startsWith('err')) throw new KernelHelperError(reply?.slice(4) ?? 'no reply');
    return reply.slice(3);
  }

  /**
   * Counters by key (hex) of the entries that saw a packet after `sinceNs` (0n: of every entry
   * that saw one), and the loader's monotonic clock when it started reading: the next dump's
   * `sinceNs`. Idle entries cost nothing.
   */
  async dump(sinceNs = 0n): Promise<{ counts: Map<string, EntryCounts>; nowNs: bigint }> {
    const lines = await this.send(`dump ${sinceNs}`, true);
    const counts = new Map<string, EntryCounts>();
    let nowNs = 0n;
    for (const l of lines) {
      const f = l.split(' ');
      if (f[0] === 's' && f.length === 8) counts.set(f[1]!, parseCounts(f, 2));
      else if (f[0] === 'end') nowNs = BigInt(f[1] ?? '0');
    }
    return { counts, nowNs };
  }

  /** Stops the loader: it detaches its filters on the way out. */
  async stop(): Promise<void> {
    this.exitHandler = null;
    if (this.dead) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin!.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  private send(line: string, multi: boolean): Promise<string[]> {
    if (this.dead) return Promise.reject(new KernelHelperError('helper is not running'));
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, multi, lines: [] });
      this.proc.stdin!.write(line + '\n');
      this.watch();
    });
  }

  /** While requests wait, one timer checks that some reply came since its last check. */
  private watch(): void {
    if (this.watchdog) return;
    this.progressAtCheck = this.progress;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (this.dead || this.pending.length === 0) return;
      if (this.progress !== this.progressAtCheck) return this.watch();
      this.killedFor = `no reply within ${REPLY_DEADLINE_MS} ms (hung); killed`;
      this.proc.kill('SIGKILL');
      // The exit event follows; nothing waits for it meanwhile.
      this.failPending(this.killedFor);
    }, REPLY_DEADLINE_MS);
    this.watchdog.unref();
  }

  private onLine(line: string): void {
    if (line.startsWith('ev ')) {
      this.eventHandler?.(line.slice(3));
      return;
    }
    this.progress++;
    const p = this.pending[0];
    if (!p) return;
    p.lines.push(line);
    if (p.multi && !line.startsWith('end')) return;
    this.pending.shift();
    p.resolve(p.lines);
  }

  private failPending(reason: string): void {
    this.dead = true;
    for (const p of this.pending.splice(0)) p.reject(new KernelHelperError(reason));
  }

  private onExit(reason: string): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.failPending(reason);
    this.exitHandler?.(reason);
  }
}

/** `PACKETS BYTES ERRORS LAST_NS SSRC TO_USERSPACE` from field `at` on. */
export function parseCounts(f: string[], at: number): EntryCounts {
  return {
    packets: Number(f[at]),
    bytes: Number(f[at + 1]),
    errors: Number(f[at + 2]),
    lastNs: BigInt(f[at + 3] ?? '0'),
    ssrc: Number(f[at + 4]),
    toUserspace: Number(f[at + 5] ?? '0'),
  };
}
