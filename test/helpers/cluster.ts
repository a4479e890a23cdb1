import type { Redis } from 'ioredis';
import { RedisServer } from './RedisServer.js';
import { Relay, waitFor, type RelayOptions } from './Relay.js';
import { RtpEndpoint, rtpPacket } from './RtpEndpoint.js';
import { audioSdp, readSdp } from './sdp.js';

export interface ClusterRelayOptions extends RelayOptions {
  /** DBs this relay subscribes to (its peers' keyspaces). */
  subscribe?: number[];
}

/** A relay that writes DB `db` of `redis` and subscribes to its peers' DBs, with short timeouts. */
export function clusterRelay(redis: RedisServer, db: number, o: ClusterRelayOptions = {}): Promise<Relay> {
  const args = [`--redis=127.0.0.1:${redis.port}/${db}`, `--node-id=relay${db}`, '--delete-delay=0'];
  for (const k of o.subscribe ?? []) args.push(`--subscribe-keyspace=${k}`);
  return Relay.start({ ...o, args: [...args, ...(o.args ?? [])] });
}

/** `list numsessions`' first three counters. */
export async function numSessions(relay: Relay): Promise<{ own: number; foreign: number; total: number }> {
  const text = await relay.cli('list numsessions');
  const n = (what: string): number => {
    const m = new RegExp(`^Current sessions ${what}: (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`no '${what}' in: ${text}`);
    return Number(m[1]);
  };
  return { own: n('own'), foreign: n('foreign'), total: n('total') };
}

/** Waits until `list numsessions` shows these counts. */
export async function waitSessions(relay: Relay, want: { own: number; foreign: number }, timeoutMs = 10_000): Promise<void> {
  let last = { own: -1, foreign: -1, total: -1 };
  try {
    await waitFor(
      'session counts',
      async () => {
        last = await numSessions(relay);
        return last.own === want.own && last.foreign === want.foreign;
      },
      timeoutMs,
      100,
    );
  } catch {
    throw new Error(`relay on NG port ${relay.ngPort} has own ${last.own} / foreign ${last.foreign}, wanted ${want.own} / ${want.foreign}`);
  }
}

/** A two-party call placed through one relay, with the phones at both ends. */
export class TestCall {
  private seq = 0;

  private constructor(
    readonly callId: string,
    readonly caller: RtpEndpoint,
    readonly callee: RtpEndpoint,
    /** Where the caller sends to (the relay's port in the answer) and the callee sends to. */
    public callerSendsTo: { address: string; port: number },
    public calleeSendsTo: { address: string; port: number },
  ) {}

  static async place(relay: Relay, callId: string, phones = '127.0.0.1'): Promise<TestCall> {
    const caller = await RtpEndpoint.open(phones);
    const callee = await RtpEndpoint.open(phones);
    const common = { 'call-id': callId, 'from-tag': `${callId}-A`, 'received-from': ['IP4', phones] };
    const offer = await relay.ng.ok({ ...common, command: 'offer', sdp: audioSdp(phones, caller.port) });
    const answer = await relay.ng.ok({ ...common, command: 'answer', 'to-tag': `${callId}-B`, sdp: audioSdp(phones, callee.port) });
    const toCallee = readSdp(offer['sdp'] as string).medias[0]!;
    const toCaller = readSdp(answer['sdp'] as string).medias[0]!;
    return new TestCall(callId, caller, callee, { address: toCaller.address!, port: toCaller.port }, { address: toCallee.address!, port: toCallee.port });
  }

  get fromTag(): string {
    return `${this.callId}-A`;
  }

  get toTag(): string {
    return `${this.callId}-B`;
  }

  /** The relay's two RTP ports of this call. */
  get relayPorts(): number[] {
    return [this.callerSendsTo.port, this.calleeSendsTo.port];
  }

  /** Sends `n` packets each way and resolves once both phones got them (fails after the timeout). */
  async mediaFlows(n = 3, timeoutMs = 3000): Promise<void> {
    const a = this.caller.received.length;
    const b = this.callee.received.length;
    for (let i = 0; i < n; i++) {
      this.caller.send(rtpPacket(this.seq, 0x1111), this.callerSendsTo.port, this.callerSendsTo.address);
      this.callee.send(rtpPacket(this.seq++, 0x2222), this.calleeSendsTo.port, this.calleeSendsTo.address);
    }
    await Promise.all([this.callee.waitFor(b + n, timeoutMs), this.caller.waitFor(a + n, timeoutMs)]);
  }

  /** Keeps sending until media arrives both ways (a standby binding the ports, learning). */
  async mediaResumes(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      `media of ${this.callId} both ways`,
      async () => {
        try {
          await this.mediaFlows(1, 300);
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      100,
    );
  }

  close(): void {
    this.caller.close();
    this.callee.close();
  }
}

/** The events a keyspace subscriber of `db` sees, as `event key` strings in arrival order. */
export class KeyspaceWatch {
  readonly events: string[] = [];

  private constructor(private readonly conn: Redis) {}

  static async open(redis: RedisServer, db: number): Promise<KeyspaceWatch> {
    const conn = redis.client(0);
    const w = new KeyspaceWatch(conn);
    const prefix = `__keyspace@${db}__:`;
    conn.on('pmessage', (_p: string, channel: string, event: string) => w.events.push(`${event} ${channel.slice(prefix.length)}`));
    await conn.psubscribe(`${prefix}*`);
    return w;
  }

  /** The events about one key, without the key. */
  of(key: string): string[] {
    return this.events.filter((e) => e.endsWith(` ${key}`)).map((e) => e.slice(0, e.indexOf(' ')));
  }

  close(): void {
    this.conn.disconnect();
  }
}

/** The daemon's JSON log lines that contain `msg`. */
export function logLines(relay: Relay, msg: string): Record<string, unknown>[] {
  return relay.output
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs `body` with a fresh Redis, an owner writing DB 1 and a standby of it writing DB 2. The
 * standby has the owner's interface name on an address of its own (pub1/127.0.0.3), so it
 * binds foreign ports while the owner holds them. Everything is stopped afterwards.
 */
export async function withOwnerAndStandby(
  standbyArgs: string[],
  body: (redis: RedisServer, owner: Relay, standby: Relay) => Promise<void>,
): Promise<void> {
  const redis = await RedisServer.start();
  const relays: Relay[] = [];
  try {
    relays.push(await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] }));
    relays.push(await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1], args: standbyArgs }));
    await body(redis, relays[0]!, relays[1]!);
  } finally {
    for (const r of relays) await r.stop();
    await redis.stop();
  }
}
