import { NgClient, type DatagramTransport, type Dict } from './NgClient.js';
import { freePort } from './ports.js';
import { Relay, waitFor, type ControlPath } from './Relay.js';
import { audioSdp, readSdp } from './sdp.js';

/** The seeded generator the benchmarks use (mulberry32): the same seed, the same run. */
export { rng as seeded } from '../../bench/seeded.js';

export interface SharedNodeOptions {
  /** `redis` value, e.g. `127.0.0.1:6379/0`. */
  redis: string;
  /** The node's own loopback address (interface, NG and CLI), e.g. 127.0.1.3. */
  address: string;
  nodeId?: string;
  args?: string[];
  netns?: string;
  control?: ControlPath;
  ngPort?: number;
  /** Config file text (the options above still come on the command line, which wins). */
  configFile?: string;
}

/** One ngrelay node in `cluster-mode = shared` on its own loopback address. */
export async function sharedNode(o: SharedNodeOptions): Promise<Relay> {
  const ngPort = o.ngPort ?? (o.netns ? 22222 : await freePort(o.address));
  const cliPort = o.netns ? 9900 : await freePort(o.address);
  return Relay.start({
    interfaces: [`pub/${o.address}`],
    ngHost: o.address,
    ngPort,
    cliPort,
    // Below the ephemeral range, so that a socket count in it is a count of media ports.
    portMin: 20000,
    portMax: 29999,
    netns: o.netns,
    control: o.control,
    configFile: o.configFile,
    args: [
      '--cluster-mode=shared',
      `--redis=${o.redis}`,
      `--node-id=${o.nodeId ?? `node-${o.address}`}`,
      '--heartbeat-interval=300',
      '--delete-delay=0',
      '--log-level=5',
      ...(o.args ?? []),
    ],
  });
}

/** An NG client that sends each command through a transport of its choosing (a random node, a balancer). */
export type Sender = (dict: Dict, cookie?: string) => Promise<Dict>;

export function clientFor(port: number, host: string, transport?: DatagramTransport): NgClient {
  return new NgClient(port, host, transport);
}

export interface FlowResult {
  callId: string;
  /** The relay's media address in the offer's and the re-INVITE's SDP (the owner's). */
  offerAddress: string;
  reinviteAddress: string;
  offerPort: number;
  reinvitePort: number;
  answerPort: number;
  failures: string[];
}

/**
 * One call: offer, answer, re-INVITE (offer + answer) and, unless `keep`, delete; `pick` chooses
 * the sender of each command (a random node, or the balancer).
 */
export async function callFlow(pick: () => Sender, callId: string, keep = false, phones = { a: ['10.9.0.1', 4000], b: ['10.9.0.2', 5000] } as { a: [string, number]; b: [string, number] }): Promise<FlowResult> {
  const failures: string[] = [];
  const check = (what: string, r: Dict): Dict => {
    if (r['result'] !== 'ok') failures.push(`${what}: ${JSON.stringify(r)}`);
    return r;
  };
  const base = { 'call-id': callId, 'from-tag': 'ft', replace: ['origin', 'session-connection'] };
  const o = check('offer', await pick()({ ...base, command: 'offer', sdp: audioSdp(phones.a[0], phones.a[1]) }));
  const os = readSdp(String(o['sdp'] ?? ''));
  const a = check('answer', await pick()({ ...base, command: 'answer', 'to-tag': 'tt', sdp: audioSdp(phones.b[0], phones.b[1]) }));
  const as = readSdp(String(a['sdp'] ?? ''));
  const ro = check('re-offer', await pick()({ ...base, command: 'offer', 'to-tag': 'tt', sdp: audioSdp(phones.a[0], phones.a[1], { origin: 'reinvite' }) }));
  const ros = readSdp(String(ro['sdp'] ?? ''));
  check('re-answer', await pick()({ ...base, command: 'answer', 'to-tag': 'tt', sdp: audioSdp(phones.b[0], phones.b[1]) }));
  if (!keep) check('delete', await pick()({ command: 'delete', 'call-id': callId, 'from-tag': 'ft' }));
  return {
    callId,
    offerAddress: os.address ?? '',
    reinviteAddress: ros.address ?? '',
    offerPort: os.medias[0]?.port ?? 0,
    reinvitePort: ros.medias[0]?.port ?? 0,
    answerPort: as.medias[0]?.port ?? 0,
    failures,
  };
}

/** `list numsessions` own count of a node. */
export async function ownCalls(r: Relay): Promise<number> {
  const t = await r.cli('list numsessions');
  return Number(/own: (\d+)/.exec(t)?.[1] ?? -1);
}

export async function waitNodes(r: Relay, n: number, timeoutMs = 10_000): Promise<string> {
  return waitFor(`${n} live nodes`, async () => {
    const t = await r.cli('list nodes');
    const live = t.split('\n').filter((l) => /state: (active|draining)/.test(l)).length;
    return live === n ? t : '';
  }, timeoutMs, 100);
}
