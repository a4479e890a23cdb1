import type { NgDict, NgRequest } from '../ng/NgRequest.js';
import type { RawReply } from '../ng/RawReply.js';
import { moduleLogger } from '../log.js';
import type { Call } from '../call/Call.js';
import type { CallRegistry } from '../call/CallRegistry.js';
import type { Config } from '../config/Config.js';
import type { LegObserver } from '../media/MediaPlane.js';
import type { CallHooks, Services } from '../Services.js';
import { SharedCallStore } from '../store/SharedCallStore.js';
import { SharedKeyspace } from '../store/SharedKeyspace.js';
import { connectShared, describeShared } from '../store/StoreEngine.js';
import { NODE_VERSION } from './ClusterTypes.js';
import { Drain } from './Drain.js';
import { Forwarder } from './Forwarder.js';
import { HopSeal } from './HopSeal.js';
import { NodeDirectory } from './NodeDirectory.js';
import { OwnedCalls } from './OwnedCalls.js';
import { SharedRouter, type RouterCounters } from './SharedRouter.js';
import { nodesText } from './nodesText.js';

const log = moduleLogger('cluster');

/** What the CLI can ask of shared mode. */
export interface SharedControl {
  listNodes(): string;
  drain(): string;
  undrain(): string;
}

/** The longest an NG reply waits for its call's write to the store. */
function writeWaitMs(c: Config): number {
  return Math.min(c.redisCmdTimeout > 0 ? c.redisCmdTimeout : 2000, 1000);
}

/** Waits up to about 10 s for the store; the error says why not. */
async function connect(conn: ReturnType<typeof connectShared>, what: string): Promise<void> {
  let last = 'no answer';
  conn.on('error', (e: Error) => {
    last = e.message;
    log.debug({ err: e.message }, 'store connection error');
  });
  const ready = new Promise<void>((resolve) => conn.once('ready', () => resolve()));
  conn.connect().catch((e: Error) => (last = e.message));
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
  if ((await Promise.race([ready, timeout])) === 'timeout') {
    conn.disconnect();
    throw new Error(`Cannot start up without running Redis at ${what}: ${last}`);
  }
}

/**
 * Shared mode, built in two steps like the static store: `connect` (the store; it provides the
 * services' write hooks), then `start` with the services (identity, heartbeat, ownership,
 * forwarding, drain).
 */
export class SharedRuntime implements Pick<CallHooks, 'flushed' | 'legObserver'> {
  private router: SharedRouter | null = null;
  private dir: NodeDirectory | null = null;
  private drain: Drain | null = null;
  private forwarder: Forwarder | null = null;

  private constructor(
    private readonly c: Config,
    private readonly registry: CallRegistry,
    private readonly conn: ReturnType<typeof connectShared>,
    private readonly ks: SharedKeyspace,
    private readonly owned: OwnedCalls,
    private readonly store: SharedCallStore,
  ) {}

  static async connect(c: Config, registry: CallRegistry): Promise<SharedRuntime> {
    const conn = connectShared(c);
    await connect(conn, describeShared(c));
    const ks = new SharedKeyspace(conn, c.redisExpires);
    const owned = new OwnedCalls();
    const ownCalls = (): Call[] => registry.all().filter((call) => !call.foreign && !call.deleted && owned.gen(call.callId) !== undefined);
    const store = new SharedCallStore(ks, c.nodeId, owned, writeWaitMs(c), ownCalls);
    registry.listen(store);
    return new SharedRuntime(c, registry, conn, ks, owned, store);
  }

  flushed(call: Call): Promise<void> {
    return this.store.flushed(call);
  }

  legObserver(call: Call): LegObserver {
    return { endpointChanged: () => this.registry.changed(call), activity: () => undefined, srtpChanged: () => this.registry.changed(call) };
  }

  private ownLive(): number {
    let n = 0;
    for (const call of this.registry.values()) if (!call.foreign && !call.deleted) n++;
    return n;
  }

  /** Joins the cluster: announces this node, and answers NG for any call by `local` or by forwarding. */
  async start(s: Services, local: (req: NgRequest) => Promise<NgDict>, exit: (code: number, why: string) => void): Promise<void> {
    const c = this.c;
    const ownLive = (): number => this.ownLive();
    let directory: NodeDirectory | null = null;
    const drain = new Drain(ownLive, c.drainTimeout, () => void directory?.beat(), (why) => exit(0, why === 'empty' ? 'drained: last call ended' : 'drain-timeout reached'));
    const ng = c.advertiseNg;
    directory = new NodeDirectory(
      this.ks,
      c.nodeId,
      () => ({
        ng: ng.host.includes(':') ? `[${ng.host}]:${ng.port}` : `${ng.host}:${ng.port}`,
        media: [...new Set(c.interfaces.map((i) => i.advertised))],
        capacity: s.limits.maxSessions,
        calls: ownLive(),
        state: drain.state,
        version: NODE_VERSION,
      }),
      c.heartbeatInterval,
      (c.finalTimeout > 0 ? c.finalTimeout : c.timeout) * 1000,
    );
    await directory.start();
    // A forwarded command's owner may hold its reply for its own write: the forwarder waits longer.
    const forwarder = new Forwarder(ng.host.includes(':'), writeWaitMs(c));
    await forwarder.bind(ng.host);
    const dir = directory;
    const seal = new HopSeal(Buffer.from(await this.ks.secret(HopSeal.newSecret()), 'base64'));
    this.router = new SharedRouter(c.nodeId, this.ks, this.registry, this.owned, dir, forwarder, seal, drain, () => {
      const max = s.limits.maxSessions;
      return max >= 0 && ownLive() >= max;
    }, local);
    this.dir = dir;
    this.drain = drain;
    this.forwarder = forwarder;
    log.info({ store: describeShared(c), nodeId: c.nodeId, nodes: dir.list().filter((n) => n.alive).length }, 'shared cluster joined');
  }

  handler(req: NgRequest): Promise<NgDict | RawReply> {
    return this.router!.handle(req);
  }

  get counters(): RouterCounters {
    return this.router!.counters;
  }

  readonly control: SharedControl = {
    listNodes: () => nodesText(this.dir!.list(), this.c.nodeId),
    drain: () => {
      this.drain!.start();
      return `Draining: no new calls; exiting when the last of ${this.ownLive()} calls ends.\n`;
    },
    undrain: () => {
      this.drain!.cancel();
      return 'Drain cancelled: taking new calls.\n';
    },
  };

  /** `leave`: remove this node from the directory (a clean exit; SIGKILL leaves it to expire). */
  async close(leave: boolean): Promise<void> {
    this.drain?.close();
    await this.dir?.close(leave);
    this.forwarder?.close();
    this.store.close();
    await this.conn.quit().catch(() => this.conn.disconnect());
  }
}
