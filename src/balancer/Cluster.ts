import { moduleLogger } from '../log.js';
import { decodeRequest } from '../ng/codec.js';
import { NgErrorText } from '../ng/errors.js';
import { emptyDict, isDict, type NgDict, type NgRequest, type NgValue } from '../ng/NgRequest.js';
import type { ClusterSpec } from './BalancerConfig.js';
import { BalancerErrorText } from './errors.js';
import { Member } from './Member.js';
import type { MemberSpec } from './MemberSpec.js';
import { pickMember } from './Placement.js';
import { replyResult } from './ReplyCheck.js';
import type { SharedCallMap } from './SharedCallMap.js';

const log = moduleLogger('balancer');

/**
 * What goes back to the proxy: a member's reply body as it came (with its `result`), or a dict
 * of the balancer's own; `member`: the one that answered, or whose silence or garbage the dict
 * reports.
 */
export type Outcome = { body: Buffer; result: string; member?: Member } | { dict: NgDict; member?: Member };

/** Which member holds a call, and since when (calls placed after a `list` was sent are not judged by it). */
interface Holder {
  member: Member;
  since: number;
}

/** The ids one `list` reply carries at most, as the relays bound it. */
const LIST_REPLY_BUDGET = 60_000;
const ALL = 1_000_000;
const PING = Buffer.from('d7:command4:pinge');

function bencodeStr(s: string): string {
  return `${Buffer.byteLength(s)}:${s}`;
}

/** A `list`/`query`/`delete` request of the balancer's own, in bencode. */
function listRequest(): Buffer {
  return Buffer.from(`d7:command4:list5:limiti${ALL}ee`);
}
function queryRequest(callId: string): Buffer {
  return Buffer.concat([Buffer.from('d7:command5:query7:call-id'), Buffer.from(bencodeStr(callId)), Buffer.from('e')]);
}
function deleteRequest(callId: string, fromTag: string | undefined): Buffer {
  const tag = fromTag === undefined ? '' : `8:from-tag${bencodeStr(fromTag)}`;
  return Buffer.from(`d7:command6:delete7:call-id${bencodeStr(callId)}${tag}e`);
}

function decodeReply(body: Buffer): NgDict | null {
  try {
    return decodeRequest(body).dict;
  } catch {
    return null;
  }
}

/** Sums numbers leaf by leaf (statistics of several members); other values: the first seen. */
function sumInto(into: NgDict, from: NgDict): void {
  for (const k of Object.keys(from)) {
    const a = into[k];
    const b = from[k]!;
    if (a === undefined) into[k] = structuredClone(b);
    else if (typeof a === 'number' && typeof b === 'number') into[k] = a + b;
    else if (isDict(a) && isDict(b)) sumInto(a, b);
  }
}

/**
 * One cluster: its members and the call-id → member map. Offers of new calls are placed by
 * weight under capacity; everything else of a call goes to the member holding it. The
 * balancer answers `ping`, `list` and `statistics` itself.
 */
export class Cluster {
  readonly members = new Map<string, Member>();
  private readonly holders = new Map<string, Holder>();
  /** Offers of new calls still being placed: a second offer of the same call waits for the first. */
  private readonly placing = new Map<string, Promise<Member | null>>();
  private healthTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly spec: ClusterSpec,
    private readonly o: { memberTimeout: number; pingInterval: number; failures: number; syncInterval: number; shared: SharedCallMap | null },
  ) {
    for (const m of spec.members) this.members.set(m.name, new Member(m, o.memberTimeout));
  }

  get name(): string {
    return this.spec.name;
  }

  get calls(): number {
    return this.holders.size;
  }

  /** Which member holds a call (for tests and the CLI). */
  holderOf(callId: string): Member | undefined {
    return this.holders.get(callId)?.member;
  }

  /** Loads the shared map, pings every member once, rebuilds the map from them, then keeps watching. */
  async start(): Promise<void> {
    if (this.o.shared) {
      for (const [callId, name] of await this.o.shared.load(this.name)) {
        const m = this.members.get(name);
        if (m) this.assign(callId, m, false);
      }
    }
    await this.healthRound();
    this.healthTimer = setInterval(() => void this.healthRound(), this.o.pingInterval * 1000);
    this.syncTimer = setInterval(() => void this.syncRound(), this.o.syncInterval * 1000);
    log.info({ cluster: this.name, members: this.members.size, calls: this.holders.size }, 'cluster ready');
  }

  // ---- NG ----------------------------------------------------------------------------------

  async handle(req: NgRequest, body: Buffer): Promise<Outcome> {
    const command = req.command;
    if (command === undefined) return { dict: { result: 'error', 'error-reason': NgErrorText.noCommand } };
    if (command === 'ping') return this.online().length > 0 ? { dict: { result: 'pong' } } : this.noMember(req);
    if (command === 'list') return this.list(req, body);
    if (command === 'statistics') return this.statistics(body);
    const callId = req.callId;
    if (callId === undefined) return this.toAny(req, body);

    let member = await this.locate(callId);
    if (!member) {
      if (command === 'offer') {
        const pending = this.placing.get(callId);
        if (!pending) return this.place(req, body, callId);
        member = (await pending) ?? undefined;
        if (!member) return this.place(req, body, callId);
      } else {
        member = await this.findHolder(callId);
        if (!member) return this.toAny(req, body);
        // A query may find a call the member keeps only for its delete-delay: asked, not adopted.
        if (command === 'query') return this.forward(member, body);
        this.assign(callId, member);
      }
    }
    if (!member.online || member.removed) {
      // Taken over by another member (Redis clustering)? Follow it there.
      const survivor = await this.findHolder(callId, member);
      if (survivor) {
        log.info({ cluster: this.name, callId, from: member.name, to: survivor.name }, 'call followed to the member that took it over');
        this.assign(callId, survivor);
        member = survivor;
      }
    }
    const outcome = await this.forward(member, body);
    if (command === 'delete') this.release(callId);
    return outcome;
  }

  /** The member of a call from the local map, else from the shared one. */
  private async locate(callId: string): Promise<Member | undefined> {
    const local = this.holders.get(callId)?.member;
    if (local || !this.o.shared) return local;
    const name = await this.o.shared.get(this.name, callId);
    const m = name === null ? undefined : this.members.get(name);
    if (m) this.assign(callId, m, false);
    return m;
  }

  private async forward(member: Member, body: Buffer): Promise<Outcome> {
    const reply = await member.link.request(body);
    if (reply === null) {
      member.counters.failures++;
      log.warn({ cluster: this.name, member: member.name }, 'member did not answer');
      return { dict: { result: 'error', 'error-reason': BalancerErrorText.silent(member.name) }, member };
    }
    const result = replyResult(reply);
    if (result === null) {
      member.counters.failures++;
      log.warn({ cluster: this.name, member: member.name, bytes: reply.length }, 'member sent an invalid reply');
      return { dict: { result: 'error', 'error-reason': BalancerErrorText.garbage(member.name) }, member };
    }
    return { body: reply, result, member };
  }

  /** A request without a call-id: any online member gives the answer (its error text, as a relay would). */
  private toAny(req: NgRequest, body: Buffer): Promise<Outcome> | Outcome {
    const m = this.online()[0];
    return m ? this.forward(m, body) : this.noMember(req);
  }

  private noMember(req: NgRequest): Outcome {
    if (req.list('supports').includes('load-limit')) return { dict: { result: 'load limit', message: BalancerErrorText.noMember } };
    return { dict: { result: 'error', 'error-reason': BalancerErrorText.noMember } };
  }

  private place(req: NgRequest, body: Buffer, callId: string): Promise<Outcome> {
    let settle!: (m: Member | null) => void;
    this.placing.set(callId, new Promise((r) => (settle = r)));
    return this.tryMembers(req, body, callId).then(
      (r) => {
        this.placing.delete(callId);
        settle(r.member);
        return r.outcome;
      },
      (e: unknown) => {
        this.placing.delete(callId);
        settle(null);
        throw e;
      },
    );
  }

  /** Offers a new call to members in placement order until one takes it. */
  private async tryMembers(req: NgRequest, body: Buffer, callId: string): Promise<{ member: Member | null; outcome: Outcome }> {
    const tried = new Set<Member>();
    let lastError: { body: Buffer; result: string; member: Member } | null = null;
    for (;;) {
      const m = pickMember(this.members.values(), tried);
      if (!m) break;
      tried.add(m);
      if (this.o.shared) {
        const owner = await this.o.shared.claim(this.name, callId, m.name);
        const other = owner === m.name ? undefined : this.members.get(owner);
        if (other) {
          // Another balancer placed this call a moment ago: it lives there.
          this.assign(callId, other, false);
          return { member: other, outcome: await this.forward(other, body) };
        }
      }
      const reply = await m.link.request(body);
      const result = reply === null ? null : replyResult(reply);
      if (reply !== null && result !== null && result !== 'error' && result !== 'load limit') {
        m.counters.placed++;
        this.assign(callId, m, !this.o.shared);
        log.debug({ cluster: this.name, callId, member: m.name }, 'call placed');
        return { member: m, outcome: { body: reply, result, member: m } };
      }
      m.counters.failures++;
      log.info({ cluster: this.name, callId, member: m.name, result: reply === null ? 'no answer' : result === null ? 'invalid reply' : result }, 'offer refused, next member');
      // rtpengine's own words for a full relay, to proxies that did not announce `load limit`.
      const full = result === 'load limit' || (result === 'error' && decodeReply(reply!)?.['error-reason'] === NgErrorText.sessionLimit);
      if (result === 'error' && !full) lastError = { body: reply!, result, member: m };
      // Whatever the refusing member may have kept of the call, it does not keep.
      if (!full) void m.link.request(deleteRequest(callId, req.fromTag));
    }
    this.o.shared?.del(this.name, callId);
    // Every member failed with an error of its own (a bad SDP, say): the proxy gets the member's words.
    if (lastError) return { member: null, outcome: lastError };
    return { member: null, outcome: this.noMember(req) };
  }

  /** Online members other than `except` that hold the call per `query`; the first in member order. */
  private async findHolder(callId: string, except?: Member): Promise<Member | undefined> {
    const asked = this.online().filter((m) => m !== except);
    const replies = await Promise.all(asked.map((m) => m.link.request(queryRequest(callId))));
    return asked.find((_m, i) => {
      const d = replies[i] ? decodeReply(replies[i]!) : null;
      return d?.['result'] === 'ok';
    });
  }

  private async list(req: NgRequest, body: Buffer): Promise<Outcome> {
    const raw = req.str('limit');
    const limit = raw === undefined ? 32 : Number.parseInt(raw, 10) || 0;
    const seen = new Set<string>();
    const replies = await Promise.all(this.online().map((m) => m.link.request(body)));
    let bytes = 0;
    outer: for (const r of replies) {
      const d = r ? decodeReply(r) : null;
      if (d?.['result'] === 'error') return { body: r!, result: 'error' };
      const calls = d?.['calls'];
      if (!Array.isArray(calls)) continue;
      for (const c of calls) {
        if (typeof c !== 'string' || seen.has(c)) continue;
        if (seen.size >= limit) break outer;
        bytes += Buffer.byteLength(c) + 8;
        if (bytes > LIST_REPLY_BUDGET) break outer;
        seen.add(c);
      }
    }
    return { dict: { calls: [...seen], result: 'ok' } };
  }

  private async statistics(body: Buffer): Promise<Outcome> {
    const replies = await Promise.all(this.online().map((m) => m.link.request(body)));
    const total = emptyDict();
    for (const r of replies) {
      const d = r ? decodeReply(r) : null;
      if (!d || d['result'] !== 'ok') continue;
      const stats = d['statistics'];
      if (isDict(stats)) {
        const into = (total['statistics'] ??= emptyDict()) as NgDict;
        sumInto(into, stats);
      }
    }
    return { dict: { ...total, result: 'ok' } as NgDict };
  }

  // ---- the map -----------------------------------------------------------------------------

  private assign(callId: string, m: Member, share = true): void {
    const old = this.holders.get(callId);
    if (old?.member === m) return;
    old?.member.calls.delete(callId);
    this.holders.set(callId, { member: m, since: Date.now() });
    m.calls.add(callId);
    if (share) this.o.shared?.set(this.name, callId, m.name);
    if (old) this.maybeGone(old.member);
  }

  private release(callId: string, share = true): void {
    const h = this.holders.get(callId);
    if (!h) return;
    this.holders.delete(callId);
    h.member.calls.delete(callId);
    if (share) this.o.shared?.del(this.name, callId);
    this.maybeGone(h.member);
  }

  /** A draining member leaves once its last call ended. */
  private maybeGone(m: Member): void {
    if (m.status === 'DRAINING' && m.calls.size === 0 && !m.removed) this.remove(m);
  }

  private remove(m: Member): void {
    m.removed = true;
    for (const callId of [...m.calls]) this.release(callId);
    this.members.delete(m.name);
    this.spec.members = this.spec.members.filter((s) => s.name !== m.name);
    m.close();
    log.info({ cluster: this.name, member: m.name }, 'member removed');
  }

  // ---- health and sync ---------------------------------------------------------------------

  online(): Member[] {
    return [...this.members.values()].filter((m) => m.online && !m.removed);
  }

  private healthRunning = false;

  private async healthRound(): Promise<void> {
    // A round waits for slow members; the next tick does not pile another on top.
    if (this.healthRunning) return;
    this.healthRunning = true;
    try {
      await this.pingAll();
    } finally {
      this.healthRunning = false;
    }
  }

  private async pingAll(): Promise<void> {
    await Promise.all([...this.members.values()].map(async (m) => {
      const t = process.hrtime.bigint();
      const reply = await m.link.request(PING, Math.min(this.o.memberTimeout, this.o.pingInterval * 1000));
      if (this.closed || m.removed) return;
      const d = reply ? decodeReply(reply) : null;
      if (d?.['result'] === 'pong') {
        if (m.markOnline(Number(process.hrtime.bigint() - t) / 1e6)) await this.rebuild(m);
      } else m.markMiss(this.o.failures);
    }));
  }

  /** The calls a member lists become its own in the map, unless the map already places them elsewhere. */
  private async rebuild(m: Member): Promise<void> {
    const listed = await this.listOf(m);
    if (!listed || this.closed) return;
    let adopted = 0;
    for (const id of listed.ids) {
      if (this.holders.has(id) || this.placing.has(id)) continue;
      this.assign(id, m);
      adopted++;
    }
    if (adopted > 0) log.info({ cluster: this.name, member: m.name, calls: adopted }, 'calls of member taken into the map');
  }

  private async listOf(m: Member): Promise<{ ids: Set<string>; truncated: boolean } | null> {
    const reply = await m.link.request(listRequest());
    const d = reply ? decodeReply(reply) : null;
    const calls = d?.['calls'];
    if (!Array.isArray(calls)) return null;
    const ids = new Set(calls.filter((c: NgValue): c is string => typeof c === 'string'));
    return { ids, truncated: reply!.length > LIST_REPLY_BUDGET - 1000 };
  }

  /** Calls that ended on a member without a `delete` through the balancer (timeouts) are freed. */
  private syncRunning = false;

  private async syncRound(): Promise<void> {
    if (this.syncRunning) return;
    this.syncRunning = true;
    try {
      await this.syncAll();
    } finally {
      this.syncRunning = false;
    }
  }

  private async syncAll(): Promise<void> {
    for (const m of this.online()) {
      const started = Date.now();
      const listed = await this.listOf(m);
      if (!listed || this.closed) continue;
      const gone: string[] = [];
      for (const id of m.calls) {
        const h = this.holders.get(id);
        if (h && h.since < started && !listed.ids.has(id)) gone.push(id);
      }
      for (const id of gone) {
        // A list cut short by the datagram size proves nothing: ask about the call itself.
        if (listed.truncated) {
          const r = await m.link.request(queryRequest(id));
          if (!r || decodeReply(r)?.['result'] !== 'error') continue;
        }
        this.release(id);
      }
      if (gone.length > 0) log.info({ cluster: this.name, member: m.name, calls: gone.length }, 'calls that ended on the member freed');
    }
  }

  // ---- administration ----------------------------------------------------------------------

  add(spec: MemberSpec): void {
    if (this.members.has(spec.name)) throw new Error(`member '${spec.name}' already exists in cluster '${this.name}'`);
    const m = new Member(spec, this.o.memberTimeout);
    this.members.set(spec.name, m);
    this.spec.members.push(spec);
    log.info({ cluster: this.name, member: spec.name, address: m.address }, 'member added');
    void this.healthRound();
  }

  delete(name: string, force: boolean): void {
    const m = this.member(name);
    m.status = 'DRAINING';
    log.info({ cluster: this.name, member: name, calls: m.calls.size, force }, 'member draining');
    if (force || m.calls.size === 0) this.remove(m);
  }

  setStatus(name: string, status: 'ACTIVE' | 'SUSPENDED'): void {
    const m = this.member(name);
    if (m.status === 'DRAINING') throw new Error(`member '${name}' is being deleted`);
    m.status = status;
    log.info({ cluster: this.name, member: name, status }, 'member status changed');
  }

  member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member '${name}' in cluster '${this.name}'`);
    return m;
  }

  close(): void {
    this.closed = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const m of this.members.values()) m.close();
  }
}
