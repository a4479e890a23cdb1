import { moduleLogger } from '../../log.js';
import { mediaCounters } from '../MediaCounters.js';
import type { OffloadableLeg, OffloadWatcher } from '../Offload.js';
import { keyHex, valueHex, type FlowEnds } from './entry.js';
import { KernelHelper, parseCounts, type EntryCounts } from './KernelHelper.js';

const log = moduleLogger('kernel');

/** How often counters and last-packet times come back from the kernel. */
const SYNC_MS = 1000;
const RESTART_MS = 1000;

/** What is installed for one leg (the direction that arrives on it). */
interface Installed {
  key: string;
  value: string;
  /** Counters of this entry at the last read; folded into the leg's counts. */
  seen: EntryCounts;
}

const zero = (): EntryCounts => ({ packets: 0, bytes: 0, errors: 0, lastNs: 0n, ssrc: 0, toUserspace: 0 });

/**
 * The kernel fast path: a confirmed plain stream (both endpoints confirmed, nothing that
 * needs the packet in userspace, such as recording) is handed to the tc program, keyed on
 * its exact 4-tuple, so any other source still reaches the leg's socket and its policy.
 * The program sits on every device packets can arrive by and sends each packet where the
 * kernel's routing table says, so the relay's addresses may live anywhere (on the device
 * itself, on `lo` as a VIP, on a dummy device). Entries follow every change of the legs
 * (re-INVITE, learning, hold, delete, close), leave the kernel before they leave these books,
 * and their counters flow back into the legs every second.
 */
export class KernelOffload implements OffloadWatcher {
  private helper: KernelHelper | null = null;
  private readonly installed = new Map<OffloadableLeg, Installed>();
  /** Legs whose forward points at a leg (so a change of the target re-evaluates its sources). */
  private readonly inbound = new Map<OffloadableLeg, Set<OffloadableLeg>>();
  private readonly targets = new Map<OffloadableLeg, OffloadableLeg[]>();
  private readonly dirty = new Set<OffloadableLeg>();
  /** Legs whose entry the loader failed to remove: tried again on the next sync. */
  private readonly retry = new Set<OffloadableLeg>();
  private flushing: Promise<void> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private syncing = false;
  /** The loader's clock at the last read: the next one asks only for entries active since. */
  private syncedNs = 0n;
  /** When the last loader was started after a death (0: never). */
  private restartedAt = 0;
  private closed = false;

  private constructor(private readonly table: number) {}

  /** Starts the loader and attaches the program; rejects with why it cannot run here. */
  static async start(table: number): Promise<KernelOffload> {
    const k = new KernelOffload(table);
    await k.connect();
    k.syncTimer = setInterval(() => void k.sync(), SYNC_MS);
    k.syncTimer.unref();
    return k;
  }

  private async connect(): Promise<void> {
    const helper = await KernelHelper.start(this.table);
    try {
      const stale = await helper.command('cleanup');
      if (stale.trim() !== '0') log.info({ table: this.table, filters: Number(stale) }, 'removed fast-path filters a previous run left behind');
      const [mode, devices] = (await helper.command('attach-all')).trim().split(' ');
      log.debug({ table: this.table, mode, devices: Number(devices) }, 'fast-path program attached');
    } catch (e) {
      await helper.stop();
      throw e;
    }
    if (this.closed) return helper.stop();
    helper.onEvent((ev) => {
      const [what, device, ...why] = ev.split(' ');
      if (what === 'attached') log.info({ device }, 'fast-path program attached to a device that came up');
      else log.warn({ device, err: why.join(' ') }, 'fast-path program could not attach to a device; its packets go through userspace');
    });
    helper.onUnexpectedExit((reason) => this.lost(reason));
    this.helper = helper;
    this.syncedNs = 0n;
  }

  /**
   * The loader died (or hung and was killed): its program went with it, so every stream is
   * back in userspace at once, until a new loader has installed them again.
   */
  private lost(reason: string): void {
    this.helper = null;
    if (this.closed) return;
    log.error({ reason }, 'kernel fast-path helper died; restarting it');
    for (const leg of this.installed.keys()) {
      leg.offloaded = false;
      this.dirty.add(leg);
    }
    this.installed.clear();
    this.retry.clear();
    const retry = (): void => {
      if (this.closed) return;
      this.restartedAt = Date.now();
      this.connect().then(
        () => {
          if (this.closed) return;
          log.info({ streams: this.dirty.size }, 'kernel fast-path helper restarted; re-installing streams');
          this.schedule();
        },
        (e: Error) => {
          log.error({ err: e.message }, 'kernel fast-path helper restart failed');
          setTimeout(retry, RESTART_MS).unref();
        },
      );
    };
    // At once, so streams are back in the kernel soon; a loader that keeps dying waits.
    if (Date.now() - this.restartedAt < RESTART_MS) setTimeout(retry, RESTART_MS).unref();
    else retry();
  }

  legChanged(leg: OffloadableLeg): void {
    this.dirty.add(leg);
    // Legs forwarding into this one send to its endpoint: their entries follow it.
    for (const src of this.inbound.get(leg) ?? []) this.dirty.add(src);
    this.track(leg);
    this.schedule();
  }

  /** Keeps `inbound` in line with the leg's forward targets. */
  private track(leg: OffloadableLeg): void {
    for (const t of this.targets.get(leg) ?? []) {
      const sources = this.inbound.get(t);
      if (sources?.delete(leg) && sources.size === 0) this.inbound.delete(t);
    }
    const now = leg.isClosed ? [] : [leg.forward, leg.rtcpForward].filter((t): t is OffloadableLeg => t !== null);
    if (now.length === 0) this.targets.delete(leg);
    else this.targets.set(leg, now);
    for (const t of now) {
      let s = this.inbound.get(t);
      if (!s) this.inbound.set(t, (s = new Set()));
      s.add(leg);
    }
  }

  private schedule(): void {
    if (this.flushing || this.closed) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      try {
        while (this.dirty.size > 0 && this.helper) {
          const legs = [...this.dirty];
          this.dirty.clear();
          // All at once: the loader answers in order, and one event-loop turn per leg would
          // leave a relay busy with userspace packets hand-offs at a few per turn. A leg that
          // changes meanwhile is dirty again and applied in the next round, after its own.
          await Promise.all(legs.map((leg) => this.apply(leg)));
        }
      } finally {
        this.flushing = null;
      }
    });
  }

  /** Brings one leg's entry in line with what it should be now. */
  private async apply(leg: OffloadableLeg): Promise<void> {
    const helper = this.helper;
    if (!helper) return;
    const want = this.desired(leg);
    const have = this.installed.get(leg);
    if (have && want && have.key === want.key && have.value === want.value) return;
    try {
      if (have && (!want || have.key !== want.key)) {
        // Out of the kernel first, then out of these books: an entry nobody tracks would
        // forward the 4-tuple for as long as the loader lives.
        const final = await this.remove(helper, have);
        this.installed.delete(leg);
        this.retry.delete(leg);
        leg.offloaded = false;
        if (final) this.fold(leg, have, final, null);
      }
      if (want) {
        await helper.command(`put ${want.key} ${want.value}`);
        const kept = have && have.key === want.key ? have.seen : zero();
        this.installed.set(leg, { ...want, seen: kept });
        leg.offloaded = true;
      }
    } catch (e) {
      // A loader that died took its entries with it (lost() re-installs); one that refused a
      // delete is asked again.
      if (have && this.installed.get(leg) === have && this.helper === helper) this.retry.add(leg);
      log.warn({ leg: `${leg.localAddress}:${leg.localPort}`, err: (e as Error).message }, 'fast-path update failed; the stream stays in userspace');
    }
  }

  /** Deletes an entry; its final counters, or null when the map no longer had it. */
  private async remove(helper: KernelHelper, inst: Installed): Promise<EntryCounts | null> {
    try {
      return parseCounts((await helper.command(`del ${inst.key}`)).trim().split(' '), 0);
    } catch (e) {
      if (/^lookup: No such file/.test((e as Error).message)) return null;
      throw e;
    }
  }

  /** The entry the leg should have, or null when its stream must stay in userspace. */
  private desired(leg: OffloadableLeg): Omit<Installed, 'seen'> | null {
    const out = leg.forward;
    // A leg watching for activity (a standby copy) must see the first packet itself.
    if (leg.isStopped || leg.tapped || leg.copied || leg.demuxed || leg.transformed || leg.isWatching || !leg.confirmed || leg.remotePort === 0) return null;
    if (!ready(out, leg.family)) return null;
    const mux = leg.rtcpForward;
    if (mux !== null && !ready(mux, leg.family)) return null;
    const arrive: FlowEnds = { srcAddress: leg.remoteAddress, srcPort: leg.remotePort, dstAddress: leg.localAddress, dstPort: leg.localPort };
    return { key: keyHex(leg.family, arrive), value: valueHex(leave(out!), mux ? leave(mux) : null) };
  }

  /** Reads every entry's counters and folds them into their legs. */
  private async sync(): Promise<void> {
    const helper = this.helper;
    if (helper && this.retry.size > 0) {
      for (const leg of this.retry) this.dirty.add(leg);
      this.retry.clear();
      this.schedule();
    }
    // One read at a time: at tens of thousands of entries a read on a busy machine can take
    // longer than the period, and reads piling up in the loader's queue delay every change.
    if (!helper || this.installed.size === 0 || this.syncing) return;
    this.syncing = true;
    try {
      const { counts, nowNs } = await helper.dump(this.syncedNs);
      const now = Date.now();
      for (const [leg, inst] of this.installed) {
        const c = counts.get(inst.key);
        if (c) this.fold(leg, inst, c, { nowNs, now });
      }
      if (this.helper === helper) this.syncedNs = nowNs;
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'reading fast-path counters failed');
    } finally {
      this.syncing = false;
    }
  }

  /** Adds what an entry counted since it was last read to the leg. */
  private fold(leg: OffloadableLeg, inst: Installed, c: EntryCounts, clock: { nowNs: bigint; now: number } | null): void {
    const o = leg.offloadedCounts;
    const packets = c.packets - inst.seen.packets;
    const bytes = c.bytes - inst.seen.bytes;
    const errors = c.errors - inst.seen.errors;
    o.packets += packets;
    o.bytes += bytes;
    o.errors += errors;
    mediaCounters.kernelPackets += packets;
    mediaCounters.kernelBytes += bytes;
    mediaCounters.kernelErrors += errors;
    if (c.lastNs !== inst.seen.lastNs && c.lastNs !== 0n) {
      const now = clock?.now ?? Date.now();
      // A packet counted while the loader read the map is newer than its clock reading.
      o.lastPacket = clock ? now - Math.max(0, Number(clock.nowNs - c.lastNs) / 1e6) : now;
      if (c.ssrc !== 0) o.ssrc = c.ssrc;
    }
    inst.seen = c;
  }

  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.flushing;
    await this.helper?.stop();
    this.helper = null;
  }
}

function ready(t: OffloadableLeg | null, family: 4 | 6): boolean {
  return t !== null && !t.isClosed && !t.transformed && t.confirmed && t.remotePort !== 0 && t.family === family;
}

function leave(out: OffloadableLeg): FlowEnds {
  return { srcAddress: out.localAddress, srcPort: out.localPort, dstAddress: out.remoteAddress, dstPort: out.remotePort };
}
