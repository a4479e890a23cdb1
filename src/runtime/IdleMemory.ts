/**
 * After a burst of signalling the relay's heaps are several times what its live objects need
 * (V8 grows them under load and hands the surplus back only slowly, over a minute or more on a
 * busy host). Once signalling has gone quiet after enough work, every thread releases its
 * garbage at once, so a relay's memory after a burst is back near its start within seconds.
 * A relay that always has requests never pauses for it; one that is quiet pauses once per burst.
 */
export interface IdleMemoryOptions {
  /** How often activity is looked at. */
  checkMs: number;
  /** No activity for this long counts as quiet. */
  quietMs: number;
  /** Requests since the last release that make a release worth its pause. */
  minActivity: number;
}

export const IDLE_MEMORY_DEFAULTS: IdleMemoryOptions = { checkMs: 1_000, quietMs: 3_000, minActivity: 1_000 };

export class IdleMemory {
  private timer: NodeJS.Timeout | null = null;
  private lastSeen: number;
  private sinceRelease = 0;
  private quietFor = 0;
  releases = 0;

  /** `activity`: a count that grows with every request (NG commands answered, here). */
  constructor(
    private readonly activity: () => number,
    private readonly release: (requests: number) => void,
    private readonly options: IdleMemoryOptions = IDLE_MEMORY_DEFAULTS,
  ) {
    this.lastSeen = activity();
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.checkMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the activity count; public so that a clock-free test can drive it. */
  check(): void {
    const seen = this.activity();
    const delta = seen - this.lastSeen;
    this.lastSeen = seen;
    if (delta > 0) {
      this.sinceRelease += delta;
      this.quietFor = 0;
      return;
    }
    this.quietFor += this.options.checkMs;
    if (this.quietFor < this.options.quietMs || this.sinceRelease < this.options.minActivity) return;
    const requests = this.sinceRelease;
    this.sinceRelease = 0;
    this.releases++;
    this.release(requests);
  }
}
