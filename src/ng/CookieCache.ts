/**
 * Replies by cookie, remembered for 30-60 s in two generations (rtpengine's scheme): a
 * retransmitted request gets the same bytes back without being run again, and a duplicate
 * that arrives while the first is still running waits for it.
 *
 * Bounded in bytes as well: under a burst of calls the oldest replies go first, so the cache
 * never holds more than `maxBytes` however fast requests come (a retransmission follows its
 * request within a second or two, long before the bound reaches it at any real rate).
 */

/** 8 MiB: about 10,000 delete replies (the largest ones), several seconds at thousands of calls/s. */
export const COOKIE_CACHE_MAX_BYTES = 8 * 1024 * 1024;
/** Map entry, key string, promise and buffer headers: what a cached reply costs beyond its bytes. */
const ENTRY_OVERHEAD = 300;

interface Entry {
  readonly cookie: string;
  readonly reply: Promise<Buffer>;
  /** 0 while the work runs; a running entry is never evicted (its duplicates wait for it). */
  bytes: number;
}

export class CookieCache {
  private current = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private bytes = 0;
  /** Finished entries of both generations, oldest first (from `head` on): the eviction order. */
  private finished: Entry[] = [];
  private head = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    rotateMs = 30_000,
    readonly maxBytes = COOKIE_CACHE_MAX_BYTES,
  ) {
    this.timer = setInterval(() => this.rotate(), rotateMs);
    this.timer.unref();
  }

  get(cookie: string): Promise<Buffer> | undefined {
    return (this.current.get(cookie) ?? this.old.get(cookie))?.reply;
  }

  /** Bytes held by finished replies (with their bookkeeping). */
  get size(): number {
    return this.bytes;
  }

  /** Runs `work` once per cookie; later callers share its outcome. */
  run(cookie: string, work: () => Promise<Buffer>): { reply: Promise<Buffer>; duplicate: boolean } {
    const known = this.get(cookie);
    if (known) return { reply: known, duplicate: true };
    const entry: Entry = { cookie, reply: work(), bytes: 0 };
    this.current.set(cookie, entry);
    entry.reply.then(
      (b) => this.settled(cookie, entry, b.length),
      // A failure to build a reply must not poison the cookie for the retransmission.
      () => this.remove(cookie, entry),
    );
    return { reply: entry.reply, duplicate: false };
  }

  private holds(cookie: string, entry: Entry): boolean {
    return this.current.get(cookie) === entry || this.old.get(cookie) === entry;
  }

  private settled(cookie: string, entry: Entry, length: number): void {
    if (!this.holds(cookie, entry)) return;
    entry.bytes = length + cookie.length + ENTRY_OVERHEAD;
    this.bytes += entry.bytes;
    this.finished.push(entry);
    if (this.bytes > this.maxBytes) this.evict();
  }

  private remove(cookie: string, entry: Entry): void {
    if (this.current.get(cookie) === entry) this.current.delete(cookie);
    else if (this.old.get(cookie) === entry) this.old.delete(cookie);
    else return;
    this.bytes -= entry.bytes;
  }

  /** Drops the oldest finished replies until the cache is back under its bound. */
  private evict(): void {
    while (this.bytes > this.maxBytes && this.head < this.finished.length) {
      const entry = this.finished[this.head++]!;
      this.remove(entry.cookie, entry);
    }
    if (this.head > 1024 && this.head * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.head);
      this.head = 0;
    }
  }

  rotate(): void {
    for (const entry of this.old.values()) this.bytes -= entry.bytes;
    this.old = this.current;
    this.current = new Map();
    // Forget the expired generation's entries here too, so that nothing keeps their bytes.
    const old = this.old;
    this.finished = this.finished.slice(this.head).filter((e) => old.get(e.cookie) === e);
    this.head = 0;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
