import type { NgDict, NgRequest } from '../ng/NgRequest.js';
import type { RawReply } from '../ng/RawReply.js';
import { moduleLogger } from '../log.js';
import type { Services } from '../Services.js';
import { SharedCallStore } from '../store/SharedCallStore.js';
import { SharedKeyspace } from '../store/SharedKeyspace.js';
import { connectShared, describeShared } from '../store/StoreEngine.js';
import { NODE_VERSION } from './ClusterTypes.js';
import { Drain } from './Drain.js';
import { Forwarder } from './Forwarder.js';
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

export interface SharedRuntime {
  handler(req: NgRequest): Promise<NgDict | RawReply>;
  control: SharedControl;
  counters: RouterCounters;
  /** `leave`: remove this node from the directory (a clean exit; SIGKILL leaves it to expire). */
  close(leave: boolean): Promise<void>;
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

/** Builds shared mode: store, identity, heartbeat, ownership, forwarding, drain. */
export async function startShared(
  s: Services,
  local: (req: NgRequest) => Promise<NgDict>,
  exit: (code: number, why: string) => void,
): Promise<SharedRuntime> {
  const c = s.config;
  const conn = connectShared(c);
  await connect(conn, describeShared(c));
  const ks = new SharedKeyspace(conn, c.redisExpires);
  const owned = new OwnedCalls();
  const store = new SharedCallStore(ks, c.nodeId, owned, Math.min(c.redisCmdTimeout > 0 ? c.redisCmdTimeout : 2000, 1000));
  const ownLive = (): number => {
    let n = 0;
    for (const call of s.registry.values()) if (!call.foreign && !call.deleted) n++;
    return n;
  };
  store.allOwnCalls = () => s.registry.all().filter((call) => !call.foreign && !call.deleted && owned.gen(call.callId) !== undefined);
  s.registry.listen(store);
  s.hooks.flushed = (call) => store.flushed(call);
  s.hooks.legObserver = (call) => ({
    endpointChanged: () => s.registry.changed(call),
    activity: () => undefined,
  });

  let directory: NodeDirectory | null = null;
  const drain = new Drain(ownLive, c.drainTimeout, () => void directory?.beat(), (why) => exit(0, why === 'empty' ? 'drained: last call ended' : 'drain-timeout reached'));
  const ng = c.advertiseNg;
  directory = new NodeDirectory(
    ks,
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
  const forwarder = new Forwarder(ng.host.includes(':'));
  await forwarder.bind(ng.host);
  const dir = directory;
  const router = new SharedRouter(c.nodeId, ks, s.registry, owned, dir, forwarder, drain, () => {
    const max = s.limits.maxSessions;
    return max >= 0 && ownLive() >= max;
  }, local);
  log.info({ store: describeShared(c), nodeId: c.nodeId, nodes: dir.list().filter((n) => n.alive).length }, 'shared cluster joined');

  return {
    handler: (req) => router.handle(req),
    counters: router.counters,
    control: {
      listNodes: () => nodesText(dir.list(), c.nodeId),
      drain: () => {
        drain.start();
        return `Draining: no new calls; exiting when the last of ${ownLive()} calls ends.\n`;
      },
      undrain: () => {
        drain.cancel();
        return 'Drain cancelled: taking new calls.\n';
      },
    },
    async close(leave) {
      drain.close();
      await dir.close(leave);
      forwarder.close();
      await conn.quit().catch(() => conn.disconnect());
    },
  };
}
