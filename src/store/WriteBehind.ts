import { moduleLogger } from '../log.js';
import { SETTLED } from '../media/MediaPlane.js';

const log = moduleLogger('store');

/** Pause before a failed batch is tried again (a reconnection kicks it at once). */
const RETRY_MS = 200;

/** What a store tells its write-behind queue: how to merge, run and check its operations. */
export interface WriteBehindIo<Op> {
  /** The connection takes commands now (else the queue waits for `kick` on its return). */
  ready(): boolean;
  /** The call's queue after `op` joined `ops` (the newest state wins; what must stay, stays). */
  merge(ops: readonly Op[], op: Op): Op[];
  /** Carries out the ops in order; resolves with those left to try again (empty: all done). */
  run(callId: string, ops: Op[]): Promise<Op[]>;
}

/**
 * The write-behind queue of a store: per call, the operations still to send, merged so that
 * only the newest state goes out. Media and signalling never wait on it, except a reply that
 * asks `flushed` (bounded by `maxWaitMs`). All calls queued in one tick go out together, so
 * their commands share one write to the server. What fails stays queued (unless something newer
 * replaced it) and is tried again; while the connection is away the queue keeps everything.
 */
export class WriteBehind<Op> {
  private readonly queue = new Map<string, Op[]>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private running = false;
  private scheduled = false;
  private retry: NodeJS.Timeout | null = null;
  /** Operations the server refused or that timed out (each is tried again), for metrics. */
  failures = 0;

  constructor(
    private readonly io: WriteBehindIo<Op>,
    /** The longest a reply waits for its call's write; 0: replies never wait. */
    private readonly maxWaitMs: number,
  ) {}

  add(callId: string, op: Op): void {
    this.queue.set(callId, this.io.merge(this.queue.get(callId) ?? [], op));
    this.kick();
  }

  /** Replaces what is queued for the call (a store that knows the whole sequence itself). */
  set(callId: string, ops: Op[]): void {
    this.queue.set(callId, ops);
    this.kick();
  }

  queued(callId: string): readonly Op[] | undefined {
    return this.queue.get(callId);
  }

  get size(): number {
    return this.queue.size;
  }

  /** Resolves when the call's queued state reached the server, or after the bounded wait. */
  flushed(callId: string): Promise<void> {
    // While the server is away the write waits for the reconnection: reply at once, as rtpengine does.
    if (this.maxWaitMs === 0 || !this.queue.has(callId) || !this.io.ready()) return SETTLED;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        log.warn({ callId, waitedMs: this.maxWaitMs }, 'Redis write still pending; replying anyway');
        resolve();
      }, this.maxWaitMs);
      const list = this.waiters.get(callId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(callId, list);
    });
  }

  /** Sends what is queued, in the next tick (with everything else queued by then). */
  kick(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private async drain(): Promise<void> {
    this.running = true;
    let failed = false;
    try {
      while (this.queue.size > 0 && this.io.ready()) {
        const batch = [...this.queue.entries()];
        this.queue.clear();
        const left = await Promise.all(batch.map(([callId, ops]) => this.io.run(callId, ops)));
        batch.forEach(([callId], i) => {
          const rest = left[i]!;
          if (rest.length === 0) {
            this.resolveWaiters(callId);
            return;
          }
          failed = true;
          this.failures++;
          // Keep what failed unless something newer was queued meanwhile.
          if (!this.queue.has(callId)) this.queue.set(callId, rest);
        });
        if (failed) break;
      }
    } finally {
      this.running = false;
      if (failed && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          this.kick();
        }, RETRY_MS);
      }
    }
  }

  private resolveWaiters(callId: string): void {
    const list = this.waiters.get(callId);
    if (!list) return;
    this.waiters.delete(callId);
    for (const w of list) w();
  }
}
