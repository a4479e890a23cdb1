import type { LocalAddress } from '../LocalInterface.js';
import type { PortPool } from '../PortPool.js';
import type { ToWorker } from './protocol.js';

/** Pairs one worker keeps bound per local address, when the port range is wide enough. */
const STOCK_PAIRS = 16;
/** Pairs of ended calls kept bound beyond the stock (up to this many times it): churn then needs no binds, also with a hundred calls being set up at once. */
const KEPT_FACTOR = 8;
/** No stock from a range narrower than this many pairs per stocked pair. */
const RANGE_PER_STOCKED_PAIR = 64;

const DONE = Promise.resolve();

/** How a stock reaches the worker that binds its sockets. */
export interface StockHost {
  request(m: ToWorker & { req: number }): Promise<string | undefined>;
  nextReq(): number;
}

interface Stocked {
  local: LocalAddress;
  /** First ports of the pairs bound and waiting for a call. */
  ready: number[];
  /** Binds asked for and not yet answered. */
  filling: number;
  /** More pairs than the stock's size at the last trim. */
  over: boolean;
}

/**
 * Port pairs a media worker has bound ahead of time: an offer takes one at once instead of
 * waiting for the worker to bind, and the binds themselves go out in batches. Parked pairs
 * count as free ports (`list interfaces`, metrics); a restored call that needs one exactly
 * evicts it. The stock is not topped up while less than a quarter of the range is free.
 * A pair whose call ended comes back with its sockets still bound on top of a full stock (up
 * to eight times its size), so a steady churn of calls binds and closes almost no sockets; what is
 * kept beyond the stock's size and not taken for a whole second is closed again.
 */
export class PairStock {
  private readonly stocks = new Map<PortPool, Stocked>();
  /** Pairs being given up, by "address port": a bind of the same ports waits for the close. */
  private readonly closing = new Map<string, Promise<unknown>>();

  constructor(private readonly host: StockHost) {}

  /** A parked pair of `local`, handed over to the caller (its first port); null when none is ready. */
  take(local: LocalAddress): number | null {
    const s = this.stocked(local);
    // Oldest first: a pair given back by an ended call is reused last (late packets of that call die out meanwhile).
    const port = s.ready.shift();
    void this.refill(local);
    if (port === undefined) return null;
    local.pool.unpark(port);
    return port;
  }

  /** Tops the stock of `local` up; resolves when the binds it asked for are answered. */
  refill(local: LocalAddress): Promise<void> {
    const s = this.stocked(local);
    const pool = local.pool;
    const target = this.target(pool);
    if (s.ready.length + s.filling >= target) return DONE;
    const fills: Promise<void>[] = [];
    while (s.ready.length + s.filling < target && pool.unclaimed >= pool.size / 4) {
      s.filling++;
      const fill = pool
        .allocatePair(async (port) => {
          const err = await this.host.request({ op: 'stock', req: this.host.nextReq(), address: local.address, family: local.family, port });
          return err === undefined ? port : null;
        })
        .then(
          (port) => {
            pool.park(port);
            s.ready.push(port);
          },
          // Exhausted: the stock stays short until ports come back.
          () => undefined,
        )
        .finally(() => s.filling--);
      fills.push(fill);
    }
    return Promise.all(fills).then(() => undefined);
  }

  /**
   * Takes the pair at `port` of `address`, whose legs just closed with their sockets still
   * bound, into the stock; false (the sockets are to be closed) when the stock is full or
   * its ports are already claimed again.
   */
  keep(address: string, port: number): boolean {
    for (const [pool, s] of this.stocks) {
      if (pool.address !== address) continue;
      // Only on top of a full stock: a stock that is short (ports scarce, an address not here
      // yet) is refilled by binds, and what is kept on top goes again once not needed.
      const target = this.target(pool);
      // Binds under way count: the offer that just took a pair asked for one.
      if (target === 0 || s.ready.length + s.filling < target || s.ready.length >= KEPT_FACTOR * target) return false;
      if (!pool.reserve(port)) return false;
      if (!pool.reserve(port + 1)) {
        pool.release(port);
        return false;
      }
      pool.park(port);
      s.ready.push(port);
      return true;
    }
    return false;
  }

  /**
   * Called every second: closes the pairs kept beyond the stock's size (the last given back
   * first) when there were more than that already at the last call.
   */
  trim(): void {
    for (const [pool, s] of this.stocks) {
      const target = this.target(pool);
      if (s.over) while (s.ready.length > target) this.evict(pool, s.ready[s.ready.length - 1]!);
      s.over = s.ready.length > target;
    }
  }

  private target(pool: PortPool): number {
    return Math.min(STOCK_PAIRS, Math.floor(pool.size / 2 / RANGE_PER_STOCKED_PAIR));
  }

  /** Gives up the parked pair at `port` of `pool` (a restored call needs it); false when it holds none there. */
  evict(pool: PortPool, port: number): boolean {
    const s = this.stocks.get(pool);
    const i = s ? s.ready.indexOf(port) : -1;
    if (!s || i < 0) return false;
    s.ready.splice(i, 1);
    this.giveBack(pool, port);
    const key = `${pool.address} ${port}`;
    const closed: Promise<unknown> = this.host.request({ op: 'unstock', req: this.host.nextReq(), address: pool.address, port }).finally(() => {
      if (this.closing.get(key) === closed) this.closing.delete(key);
    });
    this.closing.set(key, closed);
    return true;
  }

  /** Resolves once an evicted pair holding `port` of `address` is closed. */
  closed(address: string, port: number): Promise<unknown> {
    return this.closing.get(`${address} ${port - (port % 2)}`) ?? Promise.resolve();
  }

  /** The worker died and its sockets with it: every parked pair goes back to its pool. */
  drop(): LocalAddress[] {
    const locals: LocalAddress[] = [];
    for (const [pool, s] of this.stocks) {
      for (const port of s.ready) this.giveBack(pool, port);
      s.ready.length = 0;
      locals.push(s.local);
    }
    this.closing.clear();
    return locals;
  }

  private giveBack(pool: PortPool, port: number): void {
    pool.unpark(port);
    pool.release(port);
    pool.release(port + 1);
  }

  private stocked(local: LocalAddress): Stocked {
    let s = this.stocks.get(local.pool);
    if (!s) this.stocks.set(local.pool, (s = { local, ready: [], filling: 0, over: false }));
    return s;
  }
}
