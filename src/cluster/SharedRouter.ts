import type { CallRegistry } from '../call/CallRegistry.js';
import { moduleLogger } from '../log.js';
import { encodeReply } from '../ng/codec.js';
import { NgErrorText } from '../ng/errors.js';
import { emptyDict, isDict, NgRequest, type NgDict } from '../ng/NgRequest.js';
import { RawReply } from '../ng/RawReply.js';
import type { SharedKeyspace } from '../store/SharedKeyspace.js';
import type { Drain } from './Drain.js';
import type { Forwarder } from './Forwarder.js';
import type { HopSeal } from './HopSeal.js';
import type { KnownNode, NodeDirectory } from './NodeDirectory.js';
import type { OwnedCalls } from './OwnedCalls.js';
import { recordReport } from './RecordReport.js';

const log = moduleLogger('cluster');

/** Keys a forwarding node adds: who forwarded (no second hop), the original requester, and the proof it is a node. */
export const HOP_KEY = 'ngrelay-hop';
export const FROM_KEY = 'ngrelay-from';
export const SEAL_KEY = 'ngrelay-seal';

/** Commands without a call (ping, list, statistics ...) are answered by the node that got them. */
const CALL_COMMANDS = new Set(['offer', 'answer', 'delete', 'query', 'start recording', 'stop recording']);

type Local = (req: NgRequest) => Promise<NgDict>;

export interface RouterCounters {
  forwardedToOwner: number;
  forwardedForPlacement: number;
  claimed: number;
  claimsLost: number;
  takenOverFromDead: number;
  deletedForDead: number;
}

/**
 * `cluster-mode = shared`: decides, for each NG command, who answers it. A command for a call
 * this node owns runs here; one for a live peer's call is forwarded to it and its reply returned
 * unchanged; a new call is claimed atomically first (the loser of a race forwards to the
 * winner); a dead owner's call is deleted, taken over (offer) or reported (query) from its record.
 */
export class SharedRouter {
  private readonly chains = new Map<string, Promise<unknown>>();
  readonly counters: RouterCounters = { forwardedToOwner: 0, forwardedForPlacement: 0, claimed: 0, claimsLost: 0, takenOverFromDead: 0, deletedForDead: 0 };

  constructor(
    private readonly me: string,
    private readonly ks: SharedKeyspace,
    private readonly registry: CallRegistry,
    private readonly owned: OwnedCalls,
    private readonly directory: NodeDirectory,
    private readonly forwarder: Forwarder,
    private readonly seal: HopSeal,
    private readonly drain: Drain,
    private readonly overCapacity: () => boolean,
    private readonly local: Local,
  ) {}

  async handle(req: NgRequest): Promise<NgDict | RawReply> {
    let forwarded = false;
    const d = req.dict;
    if (d[HOP_KEY] !== undefined || d[FROM_KEY] !== undefined || d[SEAL_KEY] !== undefined) {
      // Only a node can seal: from anyone else the keys are dropped and the command is routed as any other.
      forwarded = req.wire !== undefined && this.seal.check(req.wire.cookie, d[HOP_KEY], d[FROM_KEY], d[SEAL_KEY]);
      if (!forwarded) log.warn({ from: req.source }, 'cluster forwarding keys from a client that is not a node: ignored');
      const dict = emptyDict();
      for (const [k, v] of Object.entries(d)) if (k !== HOP_KEY && k !== FROM_KEY && k !== SEAL_KEY) dict[k] = v;
      req = new NgRequest(dict, forwarded ? (d[FROM_KEY] as string) : req.source, req.wire);
    }
    const command = req.command;
    const callId = req.callId;
    if (command === 'statistics') return this.withClusterSection(await this.local(req));
    if (command === undefined || callId === undefined || !CALL_COMMANDS.has(command) || !req.wire) return this.local(req);
    return this.serial(callId, () => this.route(req, command, callId, forwarded));
  }

  /** Routing decisions for one call-id are taken one at a time on this node. */
  private serial<T>(callId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(callId) ?? Promise.resolve();
    const run = prev.then(work, work);
    const tail = run.catch(() => undefined);
    this.chains.set(callId, tail);
    void tail.then(() => {
      if (this.chains.get(callId) === tail) this.chains.delete(callId);
    });
    return run;
  }

  private async route(req: NgRequest, command: string, callId: string, forwarded: boolean): Promise<NgDict | RawReply> {
    const here = this.registry.get(callId);
    if (here && !here.foreign && this.owned.gen(callId) !== undefined) return this.local(req);
    // A call in its delete-delay: answers a retransmitted delete; a new offer starts a new call.
    if (here && here.deleted && command !== 'offer') return this.local(req);

    let rec: { owner: string; gen: number } | null;
    if (command === 'offer' && (forwarded || !(this.drain.draining || this.overCapacity()))) {
      // The claim is the lookup: one round trip says "ours now" or names the owner.
      const claim = await this.ks.claim(callId, this.me);
      if (claim.won) {
        this.counters.claimed++;
        return this.runOwned(req, callId, claim.gen);
      }
      rec = { owner: claim.owner, gen: claim.gen };
    } else {
      rec = await this.ks.owner(callId);
      if (!rec) {
        if (command !== 'offer') return this.local(req);
        // Draining or full: a new call goes to the least-loaded node; only if none takes it, here.
        const target = this.directory.leastLoaded();
        if (target) {
          this.counters.forwardedForPlacement++;
          const r = await this.forward(req, target);
          if (r) return r;
        }
        const claim = await this.ks.claim(callId, this.me);
        if (claim.won) {
          this.counters.claimed++;
          return this.runOwned(req, callId, claim.gen);
        }
        this.counters.claimsLost++;
        rec = { owner: claim.owner, gen: claim.gen };
      }
    }

    if (rec.owner !== this.me) {
      const peer = await this.directory.reachable(rec.owner);
      if (peer) {
        // A forwarded command is never forwarded again (no loops between nodes that disagree).
        if (forwarded) return { result: 'error', 'error-reason': NgErrorText.unknownCallId };
        this.counters.forwardedToOwner++;
        const r = await this.forward(req, peer);
        if (r) return r;
        if (await this.directory.isAlive(rec.owner)) return { result: 'error', 'error-reason': `Owner node '${rec.owner}' did not answer` };
      }
    }
    return this.deadOwner(req, command, callId, rec);
  }

  /** The owner is gone (or it is this node's earlier life, which holds nothing now). */
  private async deadOwner(req: NgRequest, command: string, callId: string, rec: { owner: string; gen: number }): Promise<NgDict | RawReply> {
    switch (command) {
      case 'delete': {
        if (await this.ks.release(callId, rec.owner, rec.gen)) this.counters.deletedForDead++;
        log.info({ callId, owner: rec.owner }, 'delete of a dead node\'s call: record removed');
        return { result: 'ok' };
      }
      case 'query': {
        const text = await this.ks.record(callId);
        if (!text) return { result: 'error', 'error-reason': NgErrorText.unknownCallId };
        const tags = [req.fromTag, req.toTag].filter((t): t is string => !!t);
        return { ...recordReport(text, tags.length > 0 ? tags : undefined), result: 'ok' };
      }
      case 'offer': {
        const claim = await this.ks.claim(callId, this.me, rec);
        if (!claim.won) {
          // Another node took it over first: it answers.
          const peer = await this.directory.reachable(claim.owner);
          const r = peer ? await this.forward(req, peer) : null;
          return r ?? { result: 'error', 'error-reason': `Owner node '${claim.owner}' did not answer` };
        }
        this.counters.takenOverFromDead++;
        log.info({ callId, from: rec.owner, gen: claim.gen }, 'call of a dead node taken over by a new offer');
        // What this node still holds under the call-id ends first, on the call's queue like any change.
        const stale = this.registry.get(callId);
        if (stale) await stale.serialize(async () => void (stale.destroyed || this.registry.destroy(stale, 'terminated', false)));
        return this.runOwned(req, callId, claim.gen);
      }
      default:
        return { result: 'error', 'error-reason': NgErrorText.unknownCallId };
    }
  }

  /** Runs the command as the owner; a claim whose offer failed is released again. */
  private async runOwned(req: NgRequest, callId: string, gen: number): Promise<NgDict> {
    this.owned.set(callId, gen);
    try {
      return await this.local(req);
    } finally {
      const call = this.registry.get(callId);
      if (!call || call.destroyed) {
        this.owned.drop(callId);
        await this.ks.release(callId, this.me, gen).catch(() => undefined);
      }
    }
  }

  private async forward(req: NgRequest, node: KnownNode): Promise<RawReply | null> {
    const i = node.ng.lastIndexOf(':');
    const host = node.ng.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(node.ng.slice(i + 1));
    const wire = req.wire!;
    const dict: NgDict = { ...req.dict, [HOP_KEY]: this.me, [FROM_KEY]: req.source, [SEAL_KEY]: this.seal.seal(wire.cookie, this.me, req.source) };
    const bytes = await this.forwarder.send(wire.cookie, encodeReply(wire.cookie, dict, wire.encoding), host, port);
    if (!bytes) {
      log.warn({ callId: req.callId, node: node.id }, 'node did not answer a forwarded command');
      return null;
    }
    const m = /result(?:"\s*:\s*"|\d+:)([a-z ]+)/.exec(bytes.toString('latin1', 0, Math.min(bytes.length, 4096)));
    return new RawReply(bytes, m?.[1]?.trim() ?? 'ok');
  }

  private withClusterSection(reply: NgDict): NgDict {
    const nodes = this.directory.list().filter((n) => n.alive);
    const stats = reply['statistics'];
    if (isDict(stats)) {
      // `forwarded`: commands this node passed to their call's owner (what a dumb balancer costs).
      stats['cluster'] = { nodes: nodes.length, calls: nodes.reduce((a, n) => a + n.calls, 0), node: this.me, forwarded: this.counters.forwardedToOwner };
    }
    return reply;
  }
}
