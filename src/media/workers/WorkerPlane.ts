import { Worker } from 'node:worker_threads';
import { moduleLogger } from '../../log.js';
import { COUNTER_SLOTS } from '../LegCounters.js';
import type { LocalAddress } from '../LocalInterface.js';
import { addWorkerTotals, removeWorkerTotals, THREAD_GC_MS, THREAD_YOUNG_GCS, TOTAL_PACKETS } from '../MediaCounters.js';
import { SETTLED, type MediaLeg, type MediaPlane, type MediaThreadStats } from '../MediaPlane.js';
import type { OffloadWatcher } from '../Offload.js';
import { dtlsIdentity } from '../transforms/DtlsIdentity.js';
import { dtmfLogDestination } from '../DtmfReport.js';
import { instanceId } from '../InstanceId.js';
import { eachFromWorker, putToWorker, type Batch, type FromWorker, type InjectedFault, type ToWorker, type WorkerData } from './protocol.js';
import { workerHealth, type RestartCause } from './workerHealth.js';
import { PairStock, type StockHost } from './PairStock.js';
import { WorkerLeg, type LegHost } from './WorkerLeg.js';

const log = moduleLogger('media');

/** Legs one worker can hold (counter slots in its shared memory; slot 0 is its totals). */
const SLOTS = 1 << 17;
const WORKER_SCRIPT = new URL('./mediaWorker.js', import.meta.url);
/** Seconds (watchdog ticks) a worker may leave a request unanswered, or its event loop unturned: 4 to 5 s. */
const DEADLINE_TICKS = 5;
/** Faults tests inject into workers (`workers hang N`, `workers reject N`); never set in service. */
const TEST_HOOKS = process.env['NGRELAY_TEST_HOOKS'] === '1';

/** FNV-1a: the same call always lands on the same worker. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The RTP and RTCP legs of one bound pair, in that order, neither offloaded to the kernel. */
function isPair(rtp: WorkerLeg, rtcp: WorkerLeg): boolean {
  return !rtp.rtcpOnly && rtcp.rtcpOnly && rtp.localPort % 2 === 0 && rtcp.localPort === rtp.localPort + 1
    && rtp.localAddress === rtcp.localAddress && !rtp.offloaded && !rtcp.offloaded;
}

/** A request the worker has not answered yet, and the watchdog tick it was sent at. */
interface Pending {
  done: (error: string | undefined) => void;
  tick: number;
}

/** One media worker thread as the control thread sees it. */
class MediaWorker implements LegHost, StockHost {
  thread!: Worker;
  shared!: SharedArrayBuffer;
  totals!: Float64Array<ArrayBufferLike>;
  private beat!: Int32Array;
  readonly legs = new Map<number, WorkerLeg>();
  /**
   * Counter slots: each belongs to exactly one leg of the current thread. A new thread
   * starts a new table, handed out at once to the legs it carries on (see revive).
   */
  private freeSlots: number[] = [];
  private nextSlot = 1;
  private readonly pending = new Map<number, Pending>();
  /** Commands sent since the last barrier: settled() needs a round trip only then. */
  dirty = false;
  /** The last barrier, until the worker answers it. */
  barrier: Promise<unknown> | null = null;
  stopping = false;
  private alive = false;
  /** While a successor is being started: requests wait for it rather than fail. */
  restarting: Promise<void> | null = null;
  /** Watchdog ticks (one a second), and the last tick the worker's beat moved. */
  private tick = 0;
  private lastBeat = -1;
  private beatTick = 0;
  readonly stock = new PairStock(this);

  constructor(
    readonly index: number,
    private readonly onDeath: (w: MediaWorker, cause: RestartCause, reason: string) => void,
  ) {}

  async start(): Promise<void> {
    this.shared = new SharedArrayBuffer(SLOTS * COUNTER_SLOTS * 8);
    this.totals = new Float64Array(this.shared, 0, COUNTER_SLOTS);
    this.beat = new Int32Array(new SharedArrayBuffer(4));
    this.lastBeat = -1;
    this.beatTick = this.tick;
    this.outbox = [];
    this.closing = [];
    const data: WorkerData = { index: this.index, shared: this.shared, identity: dtlsIdentity(), dtmfLog: dtmfLogDestination(), instanceId: instanceId(), heartbeat: this.beat.buffer as SharedArrayBuffer, testHooks: TEST_HOOKS };
    const thread = new Worker(WORKER_SCRIPT, { workerData: data, name: `media-${this.index}` });
    this.thread = thread;
    thread.on('message', (batch: Batch) => eachFromWorker(batch, this.onMessage));
    thread.on('error', (e) => log.error({ worker: this.index, err: e.stack }, 'media worker failed'));
    thread.on('exit', (code) => {
      if (thread === this.thread) this.died('died', `exit code ${code}`);
    });
    // Ready once its modules are loaded (seconds on a busy host): only then do deadlines count.
    await new Promise<void>((resolve, reject) => {
      this.onReady = resolve;
      thread.once('error', reject);
    });
    this.onReady = null;
    this.alive = true;
    addWorkerTotals(this.totals);
  }

  /**
   * The thread is gone, or given up on: every pending request is answered with an error
   * (as mediasoup's Channel rejects them when its worker closes), and the owner replaces it.
   */
  private died(cause: RestartCause, reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.done(`media worker ${reason}`);
    if (!this.stopping) this.onDeath(this, cause, reason);
  }

  /** Ends a thread that cannot go on (hung, state in doubt); it is replaced as a dead one is. */
  private giveUp(cause: RestartCause, reason: string): void {
    if (!this.alive) return;
    const thread = this.thread;
    this.died(cause, reason);
    void thread.terminate();
  }

  /**
   * Called once a second. A worker whose event loop has not turned, or that has left a
   * request unanswered, for a whole deadline is hung: it is terminated and replaced. Counted
   * in ticks, not clock time, so that a stalled control thread does not blame its workers.
   * A late answer is not waited for: a bind it lost may have happened, and only a new thread
   * makes the control thread's view of legs and slots exact again.
   */
  watch(): void {
    if (!this.alive) return;
    this.tick++;
    const beat = Atomics.load(this.beat, 0);
    if (beat !== this.lastBeat) {
      this.lastBeat = beat;
      this.beatTick = this.tick;
    }
    // Oldest first: a Map iterates in the order requests were sent.
    const oldest = this.pending.values().next().value;
    const stalled = this.tick - this.beatTick >= DEADLINE_TICKS;
    if (!stalled && !(oldest && this.tick - oldest.tick >= DEADLINE_TICKS)) return;
    log.error({ worker: this.index, pending: this.pending.size, loopStalled: stalled }, 'media worker stopped answering; terminating it');
    this.giveUp('hung', 'stopped answering');
  }

  /** Asks the thread to give its garbage back (a thread being replaced starts small anyway). */
  releaseMemory(): void {
    if (this.alive) this.send({ op: 'release' });
  }

  /** A test's fault (NGRELAY_TEST_HOOKS=1 only); false when hooks are off. */
  inject(fault: InjectedFault): boolean {
    if (!TEST_HOOKS) return false;
    this.send({ op: 'fault', fault });
    return true;
  }

  send(m: ToWorker): void {
    this.dirty = true;
    this.queue(m);
  }

  /** Legs closed since the last message queued: the RTP and RTCP legs of a pair close one after the other. */
  private closing: WorkerLeg[] = [];

  retire(leg: WorkerLeg): void {
    // A leg this thread does not hold (its bind failed, or it is being bound again on a new
    // thread: revive settles it) has nothing here to close, and no slot to give back.
    if (this.legs.get(leg.id) !== leg) return;
    this.legs.delete(leg.id);
    this.freeSlots.push(leg.slot);
    this.dirty = true;
    if (this.closing.length === 0 && this.outbox.length === 0) setImmediate(this.flush);
    this.closing.push(leg);
  }

  /**
   * Closed legs go out before any later message (a barrier after them covers them). A pair
   * closed whole, not in the kernel's hands, goes back to the stock with its sockets bound
   * when the stock has room; any other leg's socket is closed.
   */
  private settleClosing(): void {
    const closing = this.closing;
    this.closing = [];
    for (let i = 0; i < closing.length; i++) {
      const leg = closing[i]!;
      const next = closing[i + 1];
      if (next && this.alive && isPair(leg, next) && this.stock.keep(leg.localAddress, leg.localPort)) {
        putToWorker(this.outbox, { op: 'restock', ids: [leg.id, next.id], address: leg.localAddress, port: leg.localPort });
        i++;
        continue;
      }
      putToWorker(this.outbox, { op: 'close', id: leg.id });
    }
  }

  /**
   * Messages go out in one batch per turn of the event loop (after its I/O, so every NG
   * request read in that turn shares it): a message costs a wake-up of the worker, and under
   * load one batch carries the legs of many calls.
   */
  private outbox: Batch = [];
  private queue(m: ToWorker): void {
    if (this.closing.length > 0) this.settleClosing();
    if (this.outbox.length === 0) setImmediate(this.flush);
    putToWorker(this.outbox, m);
  }

  private readonly flush = (): void => {
    if (this.closing.length > 0) this.settleClosing();
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0) this.thread.postMessage(batch);
  };

  private reqSeq = 0;

  /** A command the worker answers with `done` (binds, barriers). */
  request(m: ToWorker & { req: number }): Promise<string | undefined> {
    if (!this.alive) {
      // A successor being started answers once it runs; nothing answers for a worker that is not coming back.
      const next = this.restarting;
      return next ? next.then(() => (this.alive ? this.request(m) : 'media worker exited')) : Promise.resolve('media worker exited');
    }
    return new Promise((done) => {
      this.pending.set(m.req, { done, tick: this.tick });
      this.queue(m);
    });
  }

  /** A barrier: answered once the worker has applied every message sent before it. */
  sync(): void {
    this.dirty = false;
    const b: Promise<unknown> = this.request({ op: 'sync', req: this.nextReq() }).then(() => {
      if (this.barrier === b) this.barrier = null;
    });
    this.barrier = b;
  }

  nextReq(): number {
    return ++this.reqSeq;
  }

  /** A new thread: a new table of slots, none taken yet. */
  resetSlots(): void {
    this.freeSlots = [];
    this.nextSlot = 1;
  }

  allocSlot(): number {
    const s = this.freeSlots.pop() ?? this.nextSlot++;
    if (s >= SLOTS) throw new Error(`media worker ${this.index} holds ${SLOTS - 1} legs already`);
    return s;
  }

  counters(slot: number): Float64Array<ArrayBufferLike> {
    return new Float64Array(this.shared, slot * COUNTER_SLOTS * 8, COUNTER_SLOTS);
  }

  /** Legs whose sockets the worker holds from now on. */
  register(...legs: WorkerLeg[]): void {
    for (const leg of legs) this.legs.set(leg.id, leg);
  }

  /** A leg whose bind failed (never registered) or that this thread closed: its counter slot goes back. */
  discard(leg: WorkerLeg): void {
    this.freeSlots.push(leg.slot);
  }

  private onReady: (() => void) | null = null;

  private readonly onMessage = (m: FromWorker): void => {
    switch (m.ev) {
      case 'ready':
        return this.onReady?.();
      case 'done': {
        const p = this.pending.get(m.req);
        this.pending.delete(m.req);
        p?.done(m.error);
        return;
      }
      case 'state':
        return this.legs.get(m.id)?.applyState(m.state, m.learned);
      case 'activity':
        return this.legs.get(m.id)?.applyActivity();
      case 'srtp':
        return this.legs.get(m.id)?.applySrtp(m.state);
      case 'packet':
        return this.legs.get(m.id)?.tapPacket(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), m.src, m.dst);
      case 'fault':
        workerHealth.unhandledRejections++;
        if (m.trusted) return log.info({ worker: this.index, err: m.error }, 'media worker: unhandled rejection (a DTLS peer gave up)');
        log.error({ worker: this.index, err: m.error }, 'media worker: unhandled rejection; its state cannot be trusted, restarting it');
        return this.giveUp('untrusted', 'had an unhandled rejection');
    }
  };
}

/**
 * Media on worker threads: `num-threads` workers each own the sockets of their share of the
 * calls (both legs of a call on one worker, by a hash of the call-id). The control thread
 * keeps NG, CLI, Redis, timers and the model and never touches a media packet.
 */
export class WorkerPlane implements MediaPlane {
  private readonly workers: MediaWorker[] = [];
  private nextId = 0;
  /**
   * Once a second: pairs kept from ended calls beyond each stock's size are closed once not
   * taken for a second, and every worker's deadlines are checked.
   */
  private readonly ticker = setInterval(() => {
    for (const w of this.workers) {
      w.stock.trim();
      w.watch();
    }
  }, 1000).unref();

  private constructor(private readonly offload: OffloadWatcher | null) {}

  /** Starts the workers, each with its stock of bound port pairs on every local address. */
  static async start(threads: number, offload: OffloadWatcher | null, locals: readonly LocalAddress[]): Promise<WorkerPlane> {
    const plane = new WorkerPlane(offload);
    for (let i = 0; i < threads; i++) plane.workers.push(new MediaWorker(i, (w, cause, why) => void plane.revive(w, cause, why)));
    await Promise.all(plane.workers.map((w) => w.start()));
    for (const pool of new Set(locals.map((l) => l.pool))) {
      pool.parkedBy = { evict: (port) => plane.workers.some((w) => w.stock.evict(pool, port)) };
    }
    await Promise.all(plane.workers.flatMap((w) => locals.map((l) => w.stock.refill(l))));
    return plane;
  }


  threads(): MediaThreadStats[] {
    return this.workers.map((w) => ({
      index: w.index, legs: w.legs.size, packets: w.totals[TOTAL_PACKETS]!, youngCollections: w.totals[THREAD_YOUNG_GCS]!, gcMs: w.totals[THREAD_GC_MS]!,
    }));
  }

  async killThread(index: number): Promise<boolean> {
    const w = this.workers[index];
    if (!w) return false;
    await w.thread.terminate();
    return true;
  }

  releaseMemory(): void {
    for (const w of this.workers) w.releaseMemory();
  }

  injectFault(index: number, fault: InjectedFault): boolean {
    return this.workers[index]?.inject(fault) ?? false;
  }

  private worker(group: string): MediaWorker {
    return this.workers[hash(group) % this.workers.length]!;
  }

  private newLeg(w: MediaWorker, local: LocalAddress, port: number, rtcpOnly: boolean): WorkerLeg {
    const slot = w.allocSlot();
    return new WorkerLeg(++this.nextId, w, w.counters(slot), slot, local.address, port, local.family, rtcpOnly, this.offload);
  }

  async allocatePair(local: LocalAddress, group: string): Promise<[MediaLeg, MediaLeg]> {
    const w = this.worker(group);
    const pairOn = (port: number): { rtp: WorkerLeg; rtcp: WorkerLeg; m: Extract<ToWorker, { op: 'adopt' }> } => {
      const rtp = this.newLeg(w, local, port, false);
      const rtcp = this.newLeg(w, local, port + 1, true);
      return { rtp, rtcp, m: { op: 'adopt', ids: [rtp.id, rtcp.id], slots: [rtp.slot, rtcp.slot], address: local.address, family: local.family, port } };
    };
    const parked = w.stock.take(local);
    if (parked !== null) {
      const { rtp, rtcp, m } = pairOn(parked);
      w.send(m);
      w.register(rtp, rtcp);
      return [rtp, rtcp];
    }
    return local.pool.allocatePair(async (port) => {
      const { rtp, rtcp, m } = pairOn(port);
      const err = await w.request({ ...m, op: 'bindPair', req: w.nextReq() });
      if (err !== undefined) {
        w.discard(rtp);
        w.discard(rtcp);
        return null;
      }
      w.register(rtp, rtcp);
      return [rtp, rtcp] as [MediaLeg, MediaLeg];
    });
  }

  async bindReserved(local: LocalAddress, port: number, rtcpOnly: boolean, group: string): Promise<MediaLeg> {
    const w = this.worker(group);
    // A parked pair given up for this port may still be closing on its worker.
    await Promise.all(this.workers.map((x) => x.stock.closed(local.address, port)));
    const leg = this.newLeg(w, local, port, rtcpOnly);
    const err = await w.request({ op: 'bind', req: w.nextReq(), id: leg.id, slot: leg.slot, address: local.address, family: local.family, port, rtcpOnly });
    if (err !== undefined) {
      w.discard(leg);
      throw new Error(err);
    }
    w.register(leg);
    return leg;
  }

  async bindAlternate(leg: MediaLeg, local: LocalAddress, port: number): Promise<void> {
    const wl = leg as WorkerLeg;
    const w = wl.host as MediaWorker;
    const err = await w.request({ op: 'alt', req: w.nextReq(), id: wl.id, address: local.address, family: local.family, port });
    if (err !== undefined) throw new Error(err);
    if (wl.isClosed) throw new Error('leg closed');
    wl.addAlternate({ address: local.address, port, family: local.family });
  }

  /** A round trip to every worker that was told something since the last one, then the kernel. */
  /** A barrier to every worker: events they posted before it arrive before its answer. */
  async caughtUp(): Promise<void> {
    for (const w of this.workers) w.sync();
    for (const w of this.workers) await w.barrier;
  }

  settled(): Promise<void> {
    // A barrier sent after our messages covers them, whoever sent it; all go out before any is awaited.
    let wait: Promise<unknown> | null = null;
    for (const w of this.workers) {
      if (w.dirty) w.sync();
      if (w.barrier) wait = wait ? Promise.all([wait, w.barrier]) : w.barrier;
    }
    const offload = this.offload;
    if (!wait) return offload ? offload.settled() : SETTLED;
    return offload ? wait.then(() => offload.settled()) : (wait as Promise<void>);
  }


  /**
   * A worker died, hung or could not be trusted: a new one takes its place and binds the
   * same ports again, and every leg it had is carried on from the control thread's copy of
   * its state (counters included). A leg whose port cannot be bound again is closed, so its
   * call times out rather than staying silently dead. Each carried leg gets its slot in the
   * new thread's table at once, before anything else can take or free one; a leg closed
   * while it is being bound again is closed on the new thread once its bind is answered.
   */
  private async revive(w: MediaWorker, cause: RestartCause, why: string): Promise<void> {
    log.error({ worker: w.index, reason: why, legs: w.legs.size }, 'media worker died; restarting it and re-binding its calls');
    workerHealth.restarts[cause]++;
    const old = w.thread;
    removeWorkerTotals(w.totals, true);
    const legs = [...w.legs.values()];
    w.legs.clear();
    w.resetSlots();
    const counts = legs.map((leg) => leg.counters);
    for (const leg of legs) leg.slot = w.allocSlot();
    const stocked = w.stock.drop();
    let started!: () => void;
    w.restarting = new Promise((resolve) => (started = resolve));
    try {
      // The old thread's sockets must be closed before the new one binds the same ports.
      await old.terminate();
      await w.start();
    } catch (e) {
      log.error({ worker: w.index, err: (e as Error).message }, 'media worker could not be restarted; its calls are closed');
      for (const leg of legs) leg.close();
      return;
    } finally {
      w.restarting = null;
      started();
    }
    const carried: WorkerLeg[] = [];
    for (let i = 0; i < legs.length; i++) {
      const leg = legs[i]!;
      if (leg.isClosed) {
        w.discard(leg);
        continue;
      }
      const err = await w.request({ op: 'bind', req: w.nextReq(), id: leg.id, slot: leg.slot, address: leg.localAddress, family: leg.family, port: leg.localPort, rtcpOnly: leg.rtcpOnly });
      if (err !== undefined) {
        log.error({ worker: w.index, port: leg.localPort, err }, 'port of a call on a dead media worker cannot be bound again; leg closed');
        w.discard(leg);
        leg.close();
        continue;
      }
      if (leg.isClosed) {
        // Its call ended meanwhile: the socket just bound goes, then the slot.
        w.send({ op: 'close', id: leg.id });
        w.discard(leg);
        continue;
      }
      // ICE's other addresses are bound again before the replayed agent is made.
      for (const a of leg.forgetAlternates()) {
        const altErr = await w.request({ op: 'alt', req: w.nextReq(), id: leg.id, address: a.address, family: a.family, port: a.port });
        if (altErr === undefined) leg.addAlternate(a);
        else log.error({ worker: w.index, port: a.port, address: a.address, err: altErr }, 'ICE address of a call on a dead media worker cannot be bound again; its candidate is lost');
      }
      leg.counters = w.counters(leg.slot);
      leg.counters.set(counts[i]!);
      w.register(leg);
      for (const m of leg.replay()) w.send(m);
      carried.push(leg);
    }
    for (const leg of carried) for (const m of leg.replayLinks()) w.send(m);
    await Promise.all(stocked.map((l) => w.stock.refill(l)));
    log.info({ worker: w.index, legs: carried.length }, 'media worker restarted');
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const w of this.workers) w.stopping = true;
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
    await this.offload?.close();
  }
}
