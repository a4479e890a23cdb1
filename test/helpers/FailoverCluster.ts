import { afterEach } from 'vitest';
import { LAB_NET, NetLab, type AgentPacket, type AgentSocket, type NetnsAgent } from './NetLab.js';
import { RedisServer } from './RedisServer.js';
import { Relay, waitFor } from './Relay.js';
import { audioSdp, readSdp } from './sdp.js';

/** Addresses of the clusters of docs/cluster.md, inside the lab's subnet. */
export const ADDR = {
  redis: `${LAB_NET}.5`,
  sip: `${LAB_NET}.6`,
  relay1: `${LAB_NET}.11`,
  relay2: `${LAB_NET}.12`,
  relay3: `${LAB_NET}.13`,
  caller: `${LAB_NET}.21`,
  callee: `${LAB_NET}.22`,
  vip1: `${LAB_NET}.101`,
  vip2: `${LAB_NET}.102`,
  vip3: `${LAB_NET}.103`,
} as const;

export type RelayName = 'relay1' | 'relay2' | 'relay3';
const RELAYS: RelayName[] = ['relay1', 'relay2', 'relay3'];

/** relayN writes DB N, subscribes to its peers' DBs, and lists its own VIP (pubN) first. */
function role(name: RelayName, count: number): { db: number; peerDbs: number[]; interfaces: string[] } {
  const n = RELAYS.indexOf(name) + 1;
  const all = Array.from({ length: count }, (_, i) => i + 1);
  const order = [n, ...all.filter((i) => i !== n)];
  return {
    db: n,
    peerDbs: all.filter((i) => i !== n),
    interfaces: order.map((i) => `pub${i}/${ADDR[`vip${i}` as 'vip1']}`),
  };
}

export const NG_PORT = 2223;
export const CLI_PORT = 9900;

export interface Kill {
  /** When SIGKILL was sent, and when the process was seen gone (ms, shared clock). */
  killedAt: number;
  deadAt: number;
}

export interface CallPorts {
  /** The relay port the caller sends to (answer SDP) and the one the callee sends to (offer SDP). */
  callerSide: number;
  calleeSide: number;
}

/**
 * Two or three relays (relayN owning VIPN), a Redis, a SIP proxy namespace that
 * sends NG and CLI commands, and caller/callee namespaces for RTP, as docs/cluster.md sets up.
 */
export class FailoverCluster {
  readonly relays: Partial<Record<RelayName, Relay>> = {};
  /** Every relay process started, killed ones included, for their logs. */
  private readonly started: { name: RelayName; relay: Relay }[] = [];
  private constructor(
    readonly lab: NetLab,
    readonly relayCount: number,
    readonly redis: RedisServer,
    readonly sip: NetnsAgent,
    readonly caller: NetnsAgent,
    readonly callee: NetnsAgent,
  ) {}

  /** `nonlocalBind`: set net.ipv4.ip_nonlocal_bind=1 in the relays' namespaces (the documented set-up). */
  static async create(o: { nonlocalBind?: boolean; relays?: 2 | 3; prefix?: 'ngr' | 'bal' } = {}): Promise<FailoverCluster> {
    const lab = NetLab.create({ prefix: o.prefix });
    const count = o.relays ?? 2;
    try {
      lab.addHost('redis', [ADDR.redis]);
      lab.addHost('sip', [ADDR.sip]);
      RELAYS.slice(0, count).forEach((r, i) => lab.addHost(r, [ADDR[r], ADDR[`vip${i + 1}` as 'vip1']]));
      lab.addHost('caller', [ADDR.caller]);
      lab.addHost('callee', [ADDR.callee]);
      if (o.nonlocalBind !== false) for (const r of RELAYS.slice(0, count)) lab.sysctl(r, 'net.ipv4.ip_nonlocal_bind', '1');
      const redis = await RedisServer.start({ host: ADDR.redis, port: 6379, netns: lab.ns('redis') });
      const [sip, caller, callee] = await Promise.all([lab.agent('sip'), lab.agent('caller'), lab.agent('callee')]);
      return new FailoverCluster(lab, count, redis, sip, caller, callee);
    } catch (e) {
      lab.destroy();
      throw e;
    }
  }

  async startRelay(name: RelayName, args: string[] = []): Promise<Relay> {
    const r = role(name, this.relayCount);
    const relay = await Relay.start({
      netns: this.lab.ns(name),
      ngHost: ADDR[name],
      ngPort: NG_PORT,
      cliPort: CLI_PORT,
      portMin: 30000,
      portMax: 30199,
      control: this.sip.controlPath(ADDR.sip),
      interfaces: r.interfaces,
      args: [`--redis=${ADDR.redis}:6379/${r.db}`, ...r.peerDbs.map((db) => `--subscribe-keyspace=${db}`), `--node-id=${name}`, '--delete-delay=0', ...args],
    });
    this.relays[name] = relay;
    this.started.push({ name, relay });
    return relay;
  }

  /** SIGKILL, the way a relay host dies; resolves once the process is gone. */
  async kill(name: RelayName): Promise<Kill> {
    const relay = this.relays[name]!;
    const killedAt = Date.now();
    relay.proc.kill('SIGKILL');
    await relay.exited;
    relay.ng.close();
    delete this.relays[name];
    return { killedAt, deadAt: Date.now() };
  }

  /** Keys in a Redis DB, read inside the Redis namespace. */
  keys(db: number): string[] {
    return this.lab
      .run('redis', 'redis-cli', '-h', ADDR.redis, '-n', String(db), '--scan')
      .split('\n')
      .filter((k) => k !== '');
  }

  /** Every key in the relays' DBs. */
  allKeys(): string[] {
    return Array.from({ length: this.relayCount }, (_, i) => this.keys(i + 1)).flat();
  }

  /** The stored record of a call (parsed from the set member), or null. */
  record(db: number, callId: string): Record<string, unknown> | null {
    const out = this.lab.run('redis', 'redis-cli', '-h', ADDR.redis, '-n', String(db), 'SMEMBERS', callId).trim();
    return out === '' ? null : (JSON.parse(out) as Record<string, unknown>);
  }

  /** Offer from the caller, answer from the callee, through `relay`. */
  async setupCall(relay: Relay, callId: string, callerSdpPort: number, calleePort: number): Promise<CallPorts> {
    const common = { 'call-id': callId, 'from-tag': 'caller-tag', replace: ['origin', 'session-connection'], ICE: 'remove', 'received-from': ['IP4', ADDR.sip] };
    const offer = await relay.ng.ok({ ...common, command: 'offer', sdp: audioSdp(ADDR.caller, callerSdpPort) });
    const answer = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': 'callee-tag', sdp: audioSdp(ADDR.callee, calleePort) });
    return { calleeSide: readSdp(offer['sdp'] as string).medias[0]!.port, callerSide: readSdp(answer['sdp'] as string).medias[0]!.port };
  }

  /** Waits until relay `name` is known to hold the call (own or foreign) per `list sessions all`. */
  async holds(name: RelayName, callId: string): Promise<void> {
    await waitFor(`${name} to hold ${callId}`, async () => (await this.relays[name]!.cli('list sessions all')).includes(callId), 5000, 50);
  }

  /** The daemons' logs, for a failed test's report. */
  logs(): string {
    return this.started.map(({ name, relay }) => `===== ${name} (pid ${relay.pid})\n${relay.output}`).join('\n');
  }

  close(): Promise<void> {
    return (async () => {
      for (const r of Object.values(this.relays)) await r.stop('SIGKILL');
      await this.redis.stop();
      this.lab.destroy();
    })();
  }
}

export interface RunningCall {
  c: FailoverCluster;
  caller: AgentSocket;
  callee: AgentSocket;
  ports: CallPorts;
}

/** A cluster with a call on relay1 and RTP flowing both ways (relay2 started first unless told otherwise). */
export async function clusterWithCall(callId: string, o: { startStandby?: boolean; args?: string[]; relays?: 2 | 3 } = {}): Promise<RunningCall> {
  const c = await FailoverCluster.create({ relays: o.relays });
  try {
    await c.startRelay('relay1', o.args);
    if (o.startStandby !== false) await c.startRelay('relay2', o.args);
    if (o.relays === 3) await c.startRelay('relay3', o.args);
    const caller = await c.caller.socket(ADDR.caller);
    const callee = await c.callee.socket(ADDR.callee);
    const ports = await c.setupCall(c.relays.relay1!, callId, caller.port, callee.port);
    await caller.stream(ADDR.vip1, ports.callerSide, 0x1111);
    await callee.stream(ADDR.vip1, ports.calleeSide, 0x2222);
    const t = Date.now();
    await waitForMedia(callee, t);
    await waitForMedia(caller, t);
    return { c, caller, callee, ports };
  } catch (e) {
    console.log(c.logs());
    await c.close();
    throw e;
  }
}

/**
 * One cluster per test: call from a describe block. Torn down after each test; a failed
 * test prints the daemons' logs first.
 */
export function clusterPerTest(): {
  create(o?: Parameters<typeof FailoverCluster.create>[0]): Promise<FailoverCluster>;
  withCall(callId: string, o?: Parameters<typeof clusterWithCall>[1]): Promise<RunningCall>;
} {
  let current: FailoverCluster | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(current?.logs());
    await current?.close();
    current = null;
  });
  return {
    create: async (o) => (current = await FailoverCluster.create(o)),
    withCall: async (callId, o) => {
      const r = await clusterWithCall(callId, o);
      current = r.c;
      return r;
    },
  };
}

/** Ends the call with a `delete` to `name` and checks that nothing of it is left on any relay or DB. */
export async function endCall(r: RunningCall, name: RelayName, callId: string): Promise<void> {
  await r.caller.stop();
  await r.callee.stop();
  await r.c.relays[name]!.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'caller-tag' });
  for (const relay of Object.values(r.c.relays)) await waitFor('the call to end on every relay', async () => (await numSessions(relay)).total === 0, 3000);
  await waitFor('no key of the call in any DB', () => r.c.allKeys().length === 0, 3000);
}

/**
 * Waits for media sent after the owner died to arrive at both ends through the survivor,
 * prints the gap per direction (never asserted: timing depends on the machine) and returns it.
 */
export async function reportGap(label: string, k: Kill, atCallee: AgentSocket, atCaller: AgentSocket): Promise<{ toCallee: AgentPacket; toCaller: AgentPacket }> {
  await waitForMedia(atCallee, k.deadAt);
  await waitForMedia(atCaller, k.deadAt);
  const toCallee = mediaGap(atCallee, k)!;
  const toCaller = mediaGap(atCaller, k)!;
  console.log(`media gap [${label}]: caller->callee ${toCallee.gapMs} ms, callee->caller ${toCaller.gapMs} ms`);
  return { toCallee: toCallee.first, toCaller: toCaller.first };
}

/**
 * The failure itself: relay1 SIGKILLed, VIP1 moved to relay2 at once (as keepalived does),
 * the gap reported, and relay2 seen owning the call without any operator action.
 */
export async function failOver(r: RunningCall, label: string): Promise<{ kill: Kill; toCallee: AgentPacket; toCaller: AgentPacket }> {
  const kill = await r.c.kill('relay1');
  r.c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
  const gap = await reportGap(label, kill, r.callee, r.caller);
  await waitFor('relay2 to own the call', async () => (await numSessions(r.c.relays.relay2!)).own === 1, 3000);
  return { kill, ...gap };
}

/** `list numsessions` as numbers: { own, foreign, total }. */
export async function numSessions(relay: Relay): Promise<{ own: number; foreign: number; total: number }> {
  const text = await relay.cli('list numsessions');
  const n = (what: string): number => Number(new RegExp(`${what}[^:]*:\\s*(\\d+)`, 'i').exec(text)?.[1] ?? NaN);
  return { own: n('own'), foreign: n('foreign'), total: n('total') };
}

/**
 * The media gap at an endpoint: from the owner's SIGKILL to the first packet that was sent
 * after the owner was gone (so it can only have come through the survivor).
 */
export function mediaGap(sock: AgentSocket, k: Kill): { gapMs: number; first: AgentPacket } | null {
  const first = sock.received.find((p) => p.sentAt !== undefined && p.sentAt > k.deadAt);
  return first ? { gapMs: first.at - k.killedAt, first } : null;
}

/** Waits until `sock` has received `n` packets sent after `t`. */
export async function waitForMedia(sock: AgentSocket, t: number, n = 10, timeoutMs = 5000): Promise<AgentPacket[]> {
  const got = await waitFor(
    `${n} packets at ${sock.address}:${sock.port} sent after ${t}`,
    () => {
      const got = sock.received.filter((p) => p.sentAt !== undefined && p.sentAt > t);
      return got.length >= n ? got : false;
    },
    timeoutMs,
    20,
  );
  return got as AgentPacket[];
}
