import type dgram from 'node:dgram';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { keepBuiltinPrototypesFast } from '../../fastBuiltins.js';
import { releaseMemory } from '../../runtime/memoryRelease.js';
import { COUNTER_SLOTS, LAST_PACKET } from '../LegCounters.js';
import { shareThreadTotals, THREAD_GC_MS, THREAD_YOUNG_GCS, threadTotals } from '../MediaCounters.js';
import type { FanOutTarget, LegObserver, PacketTap } from '../MediaPlane.js';
import { RelayLeg, type LegWatcher } from '../userspace/RelayLeg.js';
import { setIdentity } from '../transforms/DtlsIdentity.js';
import { setDtmfLogDestination } from '../DtmfReport.js';
import { setInstanceId } from '../InstanceId.js';
import { bindUdp, bindUdpPair } from '../userspace/udp.js';
import { eachToWorker, putFromWorker, type Batch, type FromWorker, type InjectedFault, type LegState, type ToWorker, type WorkerData } from './protocol.js';

/**
 * A media worker: owns the sockets of its share of the calls and relays their packets with
 * the userspace leg; the control thread drives it with messages and reads counters from
 * shared memory. It never sees NG, Redis or the call model.
 */
keepBuiltinPrototypesFast();
const { shared, identity, heartbeat, testHooks, dtmfLog, instanceId } = workerData as WorkerData;
setIdentity(identity);
setDtmfLogDestination(dtmfLog);
setInstanceId(instanceId);
const port = parentPort!;
shareThreadTotals(new Float64Array(shared, 0, COUNTER_SLOTS));
// What the collector costs this thread, for operators (`list workers`): told once per collection, never per packet.
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) threadTotals[THREAD_YOUNG_GCS]!++;
    threadTotals[THREAD_GC_MS]! += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
// While the event loop turns, the beat moves; the control thread replaces a worker whose beat stops.
const beat = new Int32Array(heartbeat);
setInterval(() => Atomics.add(beat, 0, 1), 250);

const legs = new Map<number, RelayLeg>();
const ids = new Map<RelayLeg, number>();
const posted = new Map<number, LegState>();

// Events go to the control thread in one batch per turn of the event loop, after its I/O.
let outbox: Batch = [];
const flush = (): void => {
  const batch = outbox;
  outbox = [];
  port.postMessage(batch);
};
const post = (m: FromWorker): void => {
  if (outbox.length === 0) setImmediate(flush);
  putFromWorker(outbox, m);
};

function stateOf(leg: RelayLeg): LegState {
  return { remoteAddress: leg.remoteAddress, remotePort: leg.remotePort, sdpAddress: leg.sdpAddress, sdpPort: leg.sdpPort, confirmed: leg.confirmed, ice: leg.icePair };
}

/** Tells the control thread the leg's endpoint state whenever it changed since last told. */
function report(leg: RelayLeg, learned: boolean): void {
  const id = ids.get(leg);
  if (id === undefined) return;
  const last = posted.get(id);
  if (!learned && last !== undefined && last.remoteAddress === leg.remoteAddress && last.remotePort === leg.remotePort
    && last.sdpAddress === leg.sdpAddress && last.sdpPort === leg.sdpPort && last.confirmed === leg.confirmed && last.ice === leg.icePair) return;
  const state = stateOf(leg);
  posted.set(id, state);
  post({ ev: 'state', id, state, learned });
}

const watcher: LegWatcher = { legChanged: (leg) => report(leg, false) };
const observer: LegObserver = {
  endpointChanged: (leg) => report(leg as RelayLeg, true),
  activity: (leg) => {
    const id = ids.get(leg as RelayLeg);
    if (id !== undefined) post({ ev: 'activity', id });
  },
  srtpChanged: (leg) => {
    const id = ids.get(leg as RelayLeg);
    const state = leg.srtpState;
    if (id !== undefined && state !== null) post({ ev: 'srtp', id, state });
  },
};

/** Copies of a tapped leg's packets go to the control thread, which writes the recording. */
function tapFor(id: number): PacketTap {
  return {
    packet: (data, srcAddress, srcPort, dstAddress, dstPort) =>
      post({ ev: 'packet', id, data: new Uint8Array(data), src: { address: srcAddress, port: srcPort }, dst: { address: dstAddress, port: dstPort } }),
  };
}

function add(id: number, slot: number, socket: dgram.Socket, address: string, port: number, family: 4 | 6, rtcpOnly: boolean): void {
  const counters = new Float64Array(shared, slot * COUNTER_SLOTS * 8, COUNTER_SLOTS);
  counters.fill(0);
  counters[LAST_PACKET] = Date.now();
  const leg = new RelayLeg(socket, address, port, family, rtcpOnly, watcher, counters);
  leg.setObserver(observer);
  legs.set(id, leg);
  ids.set(leg, id);
}

const leg = (id: number): RelayLeg | null => legs.get(id) ?? null;

/** Port pairs bound ahead of time, by "address port": an offer takes one without waiting for a bind. */
const stocked = new Map<string, [dgram.Socket, dgram.Socket]>();
const ignore = (): void => undefined;

type Of<K extends ToWorker['op']> = Extract<ToWorker, { op: K }>;

async function bindPair(m: Of<'bindPair'>): Promise<void> {
  const pair = await bindUdpPair(m.address, m.family, m.port);
  if (!pair) return post({ ev: 'done', req: m.req, error: 'bind failed' });
  add(m.ids[0], m.slots[0], pair[0], m.address, m.port, m.family, false);
  add(m.ids[1], m.slots[1], pair[1], m.address, m.port + 1, m.family, true);
  post({ ev: 'done', req: m.req });
}

async function stock(m: Of<'stock'>): Promise<void> {
  const pair = await bindUdpPair(m.address, m.family, m.port);
  if (!pair) return post({ ev: 'done', req: m.req, error: 'bind failed' });
  park(m.address, m.port, pair);
  post({ ev: 'done', req: m.req });
}

function park(address: string, port: number, pair: [dgram.Socket, dgram.Socket]): void {
  // Until a call adopts them, what arrives is dropped and an error must not end the thread.
  for (const sock of pair) sock.on('error', ignore);
  stocked.set(`${address} ${port}`, pair);
}

function adopt(m: Of<'adopt'>): void {
  const key = `${m.address} ${m.port}`;
  const pair = stocked.get(key)!;
  stocked.delete(key);
  for (const sock of pair) sock.removeListener('error', ignore);
  add(m.ids[0], m.slots[0], pair[0], m.address, m.port, m.family, false);
  add(m.ids[1], m.slots[1], pair[1], m.address, m.port + 1, m.family, true);
}

/** A pair whose call ended: its sockets stay bound, parked like a stocked pair. */
function restock(m: Of<'restock'>): void {
  const pair = m.ids.map(detach);
  const [rtp, rtcp] = pair;
  if (!rtp || !rtcp) {
    // Not ours any more (cannot happen while the control thread tracks its legs): nothing to park.
    for (const sock of pair) sock?.close();
    return;
  }
  park(m.address, m.port, [rtp, rtcp]);
}

function detach(id: number): dgram.Socket | null {
  const l = leg(id);
  if (!l) return null;
  legs.delete(id);
  ids.delete(l);
  posted.delete(id);
  return l.detach();
}

async function unstock(m: Of<'unstock'>): Promise<void> {
  const key = `${m.address} ${m.port}`;
  const pair = stocked.get(key);
  stocked.delete(key);
  // Answered once both are closed: the port is then free for a bind on any thread.
  if (pair) await Promise.all(pair.map((sock) => new Promise<void>((resolve) => sock.close(() => resolve()))));
  post({ ev: 'done', req: m.req });
}

async function bind(m: Of<'bind'>): Promise<void> {
  try {
    add(m.id, m.slot, await bindUdp(m.address, m.family, m.port), m.address, m.port, m.family, m.rtcpOnly);
    post({ ev: 'done', req: m.req });
  } catch (e) {
    post({ ev: 'done', req: m.req, error: (e as Error).message });
  }
}

async function alt(m: Of<'alt'>): Promise<void> {
  try {
    const socket = await bindUdp(m.address, m.family, m.port);
    const l = leg(m.id);
    if (!l) {
      socket.close();
      return post({ ev: 'done', req: m.req, error: 'leg closed' });
    }
    l.addAlternate(socket, m.address, m.port, m.family);
    post({ ev: 'done', req: m.req });
  } catch (e) {
    post({ ev: 'done', req: m.req, error: (e as Error).message });
  }
}

function close(id: number): void {
  const l = leg(id);
  if (!l) return;
  legs.delete(id);
  ids.delete(l);
  posted.delete(id);
  l.close();
}

/** The targets' legs on this worker (one closed meanwhile is left out). */
function fanOutTargets(m: Of<'fanout'>): FanOutTarget[] {
  const out: FanOutTarget[] = [];
  for (const t of m.targets) {
    const rtp = leg(t.rtp);
    if (rtp) out.push({ rtp, rtcp: t.rtcp === null ? null : leg(t.rtcp), transcoding: t.transcoding });
  }
  return out;
}

/** Binds finish later and answer then; every other message takes effect before the next one. */
function handle(m: ToWorker): void {
  switch (m.op) {
    case 'bindPair':
      return void bindPair(m);
    case 'stock':
      return void stock(m);
    case 'adopt':
      return adopt(m);
    case 'unstock':
      return void unstock(m);
    case 'restock':
      return restock(m);
    case 'bind':
      return void bind(m);
    case 'alt':
      return void alt(m);
    case 'dropAlts':
      return leg(m.id)?.dropAlternates();
    case 'policy':
      return leg(m.id)?.setPolicy(m.policy);
    case 'forward':
      return leg(m.id)?.forwardTo(m.rtp === null ? null : leg(m.rtp), m.rtcp === null ? null : leg(m.rtcp));
    case 'fanout':
      return leg(m.id)?.fanOutTo(fanOutTargets(m));
    case 'demux':
      return leg(m.id)?.demuxTo({ midExtension: m.midExtension, routes: m.routes.map((r) => ({ mid: r.mid, payloadTypes: r.payloadTypes, rtp: r.rtp === null ? null : leg(r.rtp) ?? null, rtcp: r.rtcp === null ? null : leg(r.rtcp) ?? null })) });
    case 'sdp':
      return leg(m.id)?.setSdpEndpoint(m.address, m.port, m.now);
    case 'restore':
      return leg(m.id)?.restore(m.sdp, m.endpoint);
    case 'icePair':
      return leg(m.id)?.restoreIcePair(m.pair);
    case 'watch':
      return leg(m.id)?.watchActivity(m.on);
    case 'tap':
      return leg(m.id)?.setTap(m.on ? tapFor(m.id) : null);
    case 'crypto':
      return leg(m.id)?.setCrypto(m.crypto);
    case 'srtp':
      return leg(m.id)?.restoreSrtp(m.state);
    case 'transcode':
      return leg(m.id)?.setTranscoding(m.settings);
    case 'rtcpOf':
      return leg(m.id)?.translateRtcpOf(m.rtp === null ? null : (leg(m.rtp) ?? null));
    case 'play':
      return leg(m.id)?.setPlayback(m.settings, m.rtcp === null ? null : (leg(m.rtcp) ?? null));
    case 'control':
      return leg(m.id)?.setMediaControl(m.control);
    case 'dtmf':
      return leg(m.id)?.setDtmfReporting(m.reporting);
    case 'stop':
      return leg(m.id)?.stop();
    case 'offloaded':
      return leg(m.id)?.relayedElsewhere();
    case 'close':
      return close(m.id);
    case 'sync':
      return post({ ev: 'done', req: m.req });
    case 'fault':
      return injectFault(m.fault);
    case 'release':
      return void releaseMemory(false);
  }
}

function injectFault(fault: InjectedFault): void {
  if (!testHooks) return;
  if (fault === 'reject') return void Promise.reject(new Error('rejection injected by a test'));
  // Stops the event loop for good, as a bug that spins would.
  for (;;) Atomics.load(beat, 0);
}


/**
 * A rejected promise nobody handles is reported, never swallowed. A DTLS peer that stops
 * answering ends werift's retransmission that way: the peer's doing, the leg's state intact.
 * Anything else means some work stopped halfway: the control thread restarts the worker.
 */
process.on('unhandledRejection', (reason) => {
  const trusted = reason instanceof Error && reason.message.startsWith('over retransmitCount');
  post({ ev: 'fault', error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason), trusted });
});

// The control thread sends a leg's commands only after its bind is done, so messages need no queue.
port.on('message', (batch: Batch) => eachToWorker(batch, handle));
post({ ev: 'ready' });
