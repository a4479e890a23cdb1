import { randomBytes } from 'node:crypto';
import { moduleLogger } from '../log.js';
import type { SharedKeyspace } from '../store/SharedKeyspace.js';
import { MISSED_BEATS, type NodeInfo } from './ClusterTypes.js';

const log = moduleLogger('cluster');

/** Heartbeats a node reads per interval, on average, however many nodes there are. */
const READ_PER_BEAT = 8;

export class NodeIdInUse extends Error {}

/** A node in the directory, as this node sees it. */
export interface KnownNode extends NodeInfo {
  alive: boolean;
}

/**
 * Node identity, heartbeat and discovery. The identity is a lease (`SET NX` with a TTL of three
 * heartbeats, refreshed on every beat): a second process with the same `node-id` is refused
 * while the first lives. The heartbeat (addresses, load, state) goes into one hash that every
 * node reads on its own beat; that read is the discovery. Dead nodes' calls are reaped here.
 */
export class NodeDirectory {
  private readonly token = randomBytes(12).toString('hex');
  private timer: NodeJS.Timeout | null = null;
  private view = new Map<string, KnownNode>();
  /** Starts at a random phase: in a big cluster the nodes' directory reads spread over the beats. */
  private beats = Math.floor(Math.random() * 1024);
  private refreshedAt = 0;
  private closed = false;
  /**
   * Until then a missing lease does not prove a node dead: the store was away (a failover), so
   * leases expired that nobody could renew. Every live node renews within one lease TTL of the
   * store's return. A store operation that failed, or took longer than a beat, marks it away.
   */
  private graceUntil = 0;
  /** Start times of store operations still waiting (one held past a beat: the store is away now). */
  private readonly waiting = new Set<{ at: number }>();

  constructor(
    private readonly ks: SharedKeyspace,
    readonly selfId: string,
    private readonly self: () => Omit<NodeInfo, 'seen' | 'interval' | 'id'>,
    private readonly intervalMs: number,
    /** A dead node's calls are removed this long after its last heartbeat. */
    private readonly reapAfterMs: number,
  ) {}

  private get ttl(): number {
    return this.intervalMs * MISSED_BEATS;
  }

  async start(): Promise<void> {
    if (!(await this.ks.takeLease(this.selfId, this.token, this.ttl))) {
      throw new NodeIdInUse(`node-id '${this.selfId}' is in use by a live node; give each node its own node-id`);
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
  }

  /** Announces now (a state change must not wait for the next beat). */
  async beat(): Promise<void> {
    if (this.closed) return;
    await this.watched(() => this.beatOnce()).catch((e: Error) => log.warn({ err: e.message }, 'heartbeat failed'));
  }

  private async beatOnce(): Promise<void> {
    if (!(await this.ks.takeLease(this.selfId, this.token, this.ttl))) {
      log.error({ nodeId: this.selfId }, 'another live process holds this node-id; two nodes share it');
    }
    const info: NodeInfo = { id: this.selfId, ...this.self(), seen: Date.now(), interval: this.intervalMs };
    await this.ks.announce(this.selfId, JSON.stringify(info));
    // Up to READ_PER_BEAT nodes the whole directory is read on every beat; a bigger cluster is
    // read every size/READ_PER_BEAT beats, so each node reads about READ_PER_BEAT heartbeats per
    // interval whatever the cluster's size (the store's load grows with the nodes, not their square).
    const every = Math.max(1, Math.ceil(this.view.size / READ_PER_BEAT));
    if (this.beats % every === 0) await this.refresh();
    if (++this.beats % 5 === 0) await this.reap();
  }

  /** Runs a store operation, noting whether the store was away (it failed, or took over a beat). */
  private async watched<T>(op: () => Promise<T>): Promise<T> {
    const w = { at: Date.now() };
    this.waiting.add(w);
    let ok = false;
    try {
      const r = await op();
      ok = true;
      return r;
    } finally {
      this.waiting.delete(w);
      if (!ok || Date.now() - w.at > this.intervalMs) this.graceUntil = Math.max(this.graceUntil, Date.now() + this.ttl);
    }
  }

  private get inGrace(): boolean {
    const now = Date.now();
    if (now < this.graceUntil) return true;
    for (const w of this.waiting) if (now - w.at > this.intervalMs) return true;
    return false;
  }

  private async refresh(): Promise<void> {
    this.refreshedAt = Date.now();
    const now = Date.now();
    const next = new Map<string, KnownNode>();
    for (const [id, text] of await this.ks.nodes()) {
      try {
        const n = JSON.parse(text) as NodeInfo;
        const was = this.view.get(id);
        const alive = id === this.selfId || now - n.seen <= MISSED_BEATS * n.interval;
        if (was && was.alive !== alive) log.info({ nodeId: id, alive }, alive ? 'node is back' : 'node is gone (heartbeat expired)');
        if (!was && alive && id !== this.selfId) log.info({ nodeId: id, ng: n.ng }, 'node discovered');
        next.set(id, { ...n, id, alive });
      } catch {
        log.warn({ nodeId: id }, 'unreadable heartbeat ignored');
      }
    }
    this.view = next;
  }

  /** A dead node's records and heartbeat go once it has been dead for the reaping delay. */
  private async reap(): Promise<void> {
    if (this.inGrace) return;
    const now = Date.now();
    for (const n of this.view.values()) {
      if (n.alive || now - n.seen < this.reapAfterMs) continue;
      if (await this.ks.alive(n.id)) continue;
      // One node reaps (the others find the records gone): the work does not grow with the cluster.
      if (!(await this.ks.reapLock(n.id, this.selfId, this.reapAfterMs))) continue;
      const ids = await this.ks.ownedBy(n.id);
      let removed = 0;
      for (const callId of ids) if (await this.ks.release(callId, n.id)) removed++;
      await this.ks.forgetOwned(n.id);
      await this.ks.removeNode(n.id);
      log.info({ nodeId: n.id, calls: removed }, 'dead node reaped: its records are removed');
    }
  }

  /** Every node known, alive or not, sorted by id. */
  list(): KnownNode[] {
    return [...this.view.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** A live node's heartbeat (from the last read), or undefined. */
  live(id: string): KnownNode | undefined {
    const n = this.view.get(id);
    return n?.alive ? n : undefined;
  }

  /**
   * A node whose lease exists, with its latest heartbeat (from the view, or read now for a node
   * that joined since the last beat); null when it is dead. The lease decides, not the view:
   * a node whose beat is late under load is still alive and still owns its calls. Just after
   * the store was away, a known node without a lease is worth trying too: a forward it does not
   * answer still ends in `isAlive`, which only the lease decides.
   */
  async reachable(id: string): Promise<KnownNode | null> {
    const fresh = this.live(id);
    if (fresh) return fresh;
    const known = this.view.get(id);
    if (!(await this.watched(() => this.ks.alive(id)))) return this.inGrace && known ? known : null;
    if (known) return known;
    const text = await this.ks.node(id);
    if (!text) return null;
    try {
      // Kept until the next read of the directory: later forwards to it need no lookup.
      const node: KnownNode = { ...(JSON.parse(text) as NodeInfo), id, alive: true };
      this.view.set(id, node);
      return node;
    } catch {
      return null;
    }
  }

  /** Authoritative: the node's lease exists (the view may be a beat old). */
  isAlive(id: string): Promise<boolean> {
    return this.ks.alive(id);
  }

  /** The active live node (not this one) with the lowest load that still has room, or null. */
  leastLoaded(): KnownNode | null {
    let best: KnownNode | null = null;
    let bestLoad = Infinity;
    for (const n of this.view.values()) {
      if (!n.alive || n.id === this.selfId || n.state !== 'active') continue;
      if (n.capacity >= 0 && n.calls >= n.capacity) continue;
      const load = n.capacity > 0 ? n.calls / n.capacity : n.calls / 1e6;
      if (load < bestLoad) {
        best = n;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Stops the heartbeat; `leave`: remove the lease and the heartbeat (a clean exit). */
  async close(leave: boolean): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (!leave) return;
    try {
      await this.ks.removeNode(this.selfId);
      await this.ks.dropLease(this.selfId, this.token);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not remove this node from the directory');
    }
  }
}
