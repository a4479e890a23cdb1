import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Proof that a forwarded NG command comes from a node of the cluster: an HMAC, under a
 * secret every node reads from the shared store, of the fields a forwarding node adds. An
 * NG client cannot make one, so it cannot pose as a node (skip routing, or name another
 * requester); whoever can read the store is a member anyway.
 */
export class HopSeal {
  constructor(private readonly secret: Buffer) {}

  /** A new secret for a cluster that has none yet. */
  static newSecret(): string {
    return randomBytes(32).toString('base64');
  }

  seal(cookie: string, hop: string, from: string): string {
    return createHmac('sha256', this.secret).update(`${cookie}\0${hop}\0${from}`).digest('base64url');
  }

  check(cookie: string, hop: unknown, from: unknown, mac: unknown): boolean {
    if (typeof hop !== 'string' || typeof from !== 'string' || typeof mac !== 'string') return false;
    const want = Buffer.from(this.seal(cookie, hop, from));
    const got = Buffer.from(mac);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
