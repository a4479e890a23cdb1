/**
 * Replies by cookie, remembered for 30-60 s in two generations (rtpengine's scheme): a
 * retransmitted request gets the same bytes back without being run again, and a duplicate
 * that arrives while the first is still running waits for it.
 */
export class CookieCache {
  private current = new Map<string, Promise<Buffer>>();
  private old = new Map<string, Promise<Buffer>>();
  private readonly timer: NodeJS.Timeout;

  constructor(rotateMs = 30_000) {
    this.timer = setInterval(() => this.rotate(), rotateMs);
    this.timer.unref();
  }

  get(cookie: string): Promise<Buffer> | undefined {
    return this.current.get(cookie) ?? this.old.get(cookie);
  }

  /** Runs `work` once per cookie; later callers share its outcome. */
  run(cookie: string, work: () => Promise<Buffer>): { reply: Promise<Buffer>; duplicate: boolean } {
    const known = this.get(cookie);
    if (known) return { reply: known, duplicate: true };
    const reply = work();
    this.current.set(cookie, reply);
    // A failure to build a reply must not poison the cookie for the retransmission.
    reply.catch(() => this.current.delete(cookie));
    return { reply, duplicate: false };
  }

  rotate(): void {
    this.old = this.current;
    this.current = new Map();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
