import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import {
  ATTR_ICE_CONTROLLED, ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USE_CANDIDATE, ATTR_USERNAME, BINDING_ERROR, BINDING_REQUEST, BINDING_SUCCESS,
  ROLE_CONFLICT, bindingError, bindingRequest, bindingSuccess, checkFingerprint, checkIntegrity, errorCode, type StunMessage,
} from './Stun.js';

/** One candidate of the peer, from its SDP (RFC 8445 5.1). */
export interface RemoteCandidate {
  foundation: string;
  priority: number;
  address: string;
  port: number;
}

/** What the signalling side decided for one component of one party (carried in LegCrypto). */
export interface IceSettings {
  /** Our credentials towards the party. */
  ufrag: string;
  pwd: string;
  /** The party's credentials (null: it has not told them, so we cannot check). */
  remote: { ufrag: string; pwd: string } | null;
  controlling: boolean;
  /** We are the lite side (`ICE-lite` option): we answer, never check. */
  lite: boolean;
  component: 1 | 2;
  /** The party's candidates for this component. */
  candidates: readonly RemoteCandidate[];
}

/**
 * What the agent needs of its leg. `local` numbers the leg's addresses (its candidates, in the
 * order the SDP lists them: 0 is the leg's own address).
 */
export interface IceSocket {
  send(packet: Buffer, port: number, address: string, local: number): void;
  /**
   * Media goes to and comes from this endpoint, through this local address, now (a nominated
   * pair, or a working one before nomination). `valid`: nominated and checked (RFC 8445 7.2.5.3.4),
   * this component's ICE is complete.
   */
  select(address: string, port: number, local: number, valid: boolean): void;
}

/** rtpengine's pacing (RFC 8445 Ta), first retransmit and retransmit count of a check. */
export const PACING_MS = 20;
const RTO_MS = 100;
const MAX_RETRANSMITS = 7;
/** The controlling side nominates this long after the first check succeeded (regular nomination). */
const NOMINATION_DELAY_MS = 100;
/** Candidates (and pairs) kept per component: a peer cannot grow the agent without bound. */
const MAX_PAIRS = 100;

/** One tie-breaker per thread (RFC 8445 7.1.1), random. */
const TIE_BREAKER = randomBytes(8);

type PairState = 'waiting' | 'progress' | 'succeeded' | 'failed';

interface Pair {
  /** Our side: the index of the local address (candidate). */
  readonly local: number;
  readonly address: string;
  readonly port: number;
  remotePriority: number;
  priority: bigint;
  state: PairState;
  tid: Buffer;
  key: string;
  rto: number;
  retransmits: number;
  nextAt: number;
  /** Our check on it carries USE-CANDIDATE (we nominate). */
  useCandidate: boolean;
  /** The controlling peer nominated it. */
  nominated: boolean;
  triggered: boolean;
  /** The role its last check was sent in (a 487 flips from that). */
  wasControlling: boolean;
}

/** Candidate priority of ours (RFC 8445 5.1.2.1): local preference falls with the address's place in the SDP. */
const typePriority = (type: number, local: number, component: number): number => ((type << 24) >>> 0) + ((65535 - local) << 8) + (256 - component);

/**
 * A full ICE agent (RFC 8445) for one component on one or more local addresses (each a host
 * candidate of ours; checks pair each with the peer's candidates of its family), as rtpengine 10.5 runs it: it
 * answers the peer's checks, checks the peer's candidates itself (paced, retransmitted with
 * back-off), learns peer-reflexive candidates from checks it gets, resolves role conflicts by
 * tie-breaker (487), and nominates regularly when controlling (100 ms after the first success,
 * the best working pair gets a check with USE-CANDIDATE). As the lite side it only answers.
 * STUN messages are rare next to media: allocating here is fine.
 */
export class IceAgent {
  private controlling: boolean;
  private readonly pairs: Pair[] = [];
  private readonly byEndpoint = new Map<string, Pair>();
  private readonly byTransaction = new Map<string, Pair>();
  private readonly triggered: Pair[] = [];
  private readonly prefix: string;
  private readonly username: string | null;
  private nominating = false;
  private nominateAt = 0;
  private completed = false;
  /** The pair media uses, and whether it is final (valid: nominated and working). */
  private selected: Pair | null = null;
  private selectedValid = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly settings: IceSettings,
    /** The family of each local address, by index. */
    private readonly families: readonly (4 | 6)[],
    private readonly socket: IceSocket,
  ) {
    this.controlling = settings.controlling && !settings.lite;
    this.prefix = `${settings.ufrag}:`;
    this.username = settings.remote ? `${settings.remote.ufrag}:${settings.ufrag}` : null;
    for (const c of settings.candidates) {
      for (let local = 0; local < families.length; local++) this.addPair(local, c.address, c.port, c.priority);
    }
    this.arm();
  }

  get role(): 'controlling' | 'controlled' {
    return this.controlling ? 'controlling' : 'controlled';
  }

  /** An authenticated binding request gets a response (success, or 487 on a role conflict we win); others get nothing. */
  request(m: StunMessage, address: string, port: number, local: number): Buffer | null {
    if (m.type !== BINDING_REQUEST) return null;
    const user = m.attributes.get(ATTR_USERNAME);
    if (!user || !user.toString('utf8').startsWith(this.prefix)) return null;
    if (!checkFingerprint(m) || !checkIntegrity(m, this.settings.pwd)) return null;
    const nominated = m.attributes.has(ATTR_USE_CANDIDATE);
    if (this.settings.lite) {
      // The lite side does no checks of its own: the peer's check is the pair's success.
      const pair = this.pairFor(local, address, port, 0);
      if (pair !== null) pair.state = 'succeeded';
      if (nominated || this.selected === null) this.choose(pair, nominated);
      return bindingSuccess(m.transactionId, address, port, this.settings.pwd);
    }
    // Role conflict (RFC 8445 7.3.1.1): the larger tie-breaker keeps controlling.
    const theirControlling = m.attributes.get(ATTR_ICE_CONTROLLING);
    const theirControlled = m.attributes.get(ATTR_ICE_CONTROLLED);
    if (theirControlling?.length === 8 && this.controlling) {
      if (Buffer.compare(TIE_BREAKER, theirControlling) >= 0) return bindingError(m.transactionId, ROLE_CONFLICT, 'Role conflict', this.settings.pwd);
      this.setRole(false);
    } else if (theirControlled?.length === 8 && !this.controlling) {
      if (Buffer.compare(TIE_BREAKER, theirControlled) >= 0) this.setRole(true);
      else return bindingError(m.transactionId, ROLE_CONFLICT, 'Role conflict', this.settings.pwd);
    }
    const prio = m.attributes.get(ATTR_PRIORITY);
    const pair = this.pairFor(local, address, port, prio?.length === 4 ? prio.readUInt32BE(0) : 0);
    if (pair !== null) {
      if (pair.state !== 'succeeded') this.trigger(pair);
      if (nominated && !this.controlling) {
        pair.nominated = true;
        // Media follows the peer's nomination at once; our own check on it confirms it.
        if (pair.state === 'succeeded') this.completed = true;
        this.choose(pair, true);
      }
    }
    return bindingSuccess(m.transactionId, address, port, this.settings.pwd);
  }

  /** A response to one of our checks (success or error), authenticated with the peer's password. */
  response(m: StunMessage, address: string, port: number, local: number): void {
    if (m.type !== BINDING_SUCCESS && m.type !== BINDING_ERROR) return;
    const pair = this.byTransaction.get(m.transactionId.toString('latin1'));
    if (!pair || pair.local !== local || pair.address !== address || pair.port !== port || pair.state !== 'progress') return;
    if (!this.settings.remote || !checkFingerprint(m) || !checkIntegrity(m, this.settings.remote.pwd)) return;
    if (m.type === BINDING_ERROR) {
      if (errorCode(m) === ROLE_CONFLICT) {
        this.setRole(!pair.wasControlling);
        pair.state = 'waiting';
        this.trigger(pair);
      } else pair.state = 'failed';
      return;
    }
    pair.state = 'succeeded';
    if (pair.useCandidate || pair.nominated) {
      this.choose(pair, true);
      this.completed = true;
    } else {
      this.choose(pair, false);
      if (this.controlling && !this.nominating && this.nominateAt === 0) {
        this.nominateAt = Date.now() + NOMINATION_DELAY_MS;
        this.arm();
      }
    }
  }

  /**
   * A pair from a record (restart, takeover, a new media worker): media goes on on it at once
   * and, when it was nominated, ICE stays complete without checking again.
   */
  resume(local: number, address: string, port: number, nominated: boolean): void {
    const pair = this.pairFor(local, address, port, 0);
    if (pair === null) return;
    pair.state = 'succeeded';
    pair.nominated = nominated;
    this.selected = pair;
    this.selectedValid = nominated;
    if (nominated) this.completed = true;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Media moves to `pair` when it is final (valid) or better than the working pair used so far. */
  private choose(pair: Pair | null, valid: boolean): void {
    if (pair === null) return;
    if (this.selectedValid && !valid) return;
    if (!valid && this.selected !== null && this.selected.priority >= pair.priority) return;
    const moved = this.selected !== pair;
    this.selected = pair;
    this.selectedValid = valid;
    if (moved || valid) this.socket.select(pair.address, pair.port, pair.local, valid && pair.state === 'succeeded');
  }

  private pairFor(local: number, address: string, port: number, priority: number): Pair | null {
    return this.byEndpoint.get(`${local}|${address}|${port}`) ?? this.addPair(local, address, port, priority);
  }

  private addPair(local: number, address: string, port: number, remotePriority: number): Pair | null {
    if (this.pairs.length >= MAX_PAIRS || port <= 0 || port > 65535 || (isIPv4(address) ? 4 : 6) !== this.families[local]) return null;
    const key = `${local}|${address}|${port}`;
    if (this.byEndpoint.has(key)) return null;
    const tid = randomBytes(12);
    const pair: Pair = {
      local, address, port, remotePriority, priority: 0n, state: 'waiting', tid, key: tid.toString('latin1'), rto: RTO_MS, retransmits: 0, nextAt: 0,
      useCandidate: false, nominated: false, triggered: false, wasControlling: this.controlling,
    };
    pair.priority = this.pairPriority(pair);
    this.pairs.push(pair);
    this.byEndpoint.set(key, pair);
    this.byTransaction.set(pair.key, pair);
    this.pairs.sort(byPriority);
    return pair;
  }

  /** RFC 8445 6.1.2.3: G is the controlling side's candidate priority, D the controlled side's. */
  private pairPriority(p: Pair): bigint {
    const ours = BigInt(typePriority(126, p.local, this.settings.component));
    const theirs = BigInt(p.remotePriority);
    const g = this.controlling ? ours : theirs;
    const d = this.controlling ? theirs : ours;
    const min = g < d ? g : d;
    const max = g < d ? d : g;
    return (min << 32n) + (max << 1n) + (g > d ? 1n : 0n);
  }

  private setRole(controlling: boolean): void {
    if (this.controlling === controlling) return;
    this.controlling = controlling;
    for (const p of this.pairs) {
      p.priority = this.pairPriority(p);
      // The checks carry the role: a retransmit must not look like the old transaction.
      this.newTransaction(p);
    }
    this.pairs.sort(byPriority);
    this.arm();
  }

  private newTransaction(p: Pair): void {
    this.byTransaction.delete(p.key);
    p.tid = randomBytes(12);
    p.key = p.tid.toString('latin1');
    this.byTransaction.set(p.key, p);
  }

  private trigger(p: Pair): void {
    if (this.settings.lite) return;
    p.retransmits = 0;
    if (p.state === 'failed') p.state = 'waiting';
    if (!p.triggered && this.triggered.length < 4 * MAX_PAIRS) {
      p.triggered = true;
      this.triggered.push(p);
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null || this.closed || this.settings.lite || this.settings.remote === null) return;
    this.timer = setTimeout(this.tick, this.hasWork() ? 0 : PACING_MS);
    this.timer.unref();
  }

  private hasWork(): boolean {
    if (this.triggered.length > 0 || (this.nominateAt !== 0 && !this.nominating)) return true;
    for (const p of this.pairs) {
      if (p.state === 'progress') return true;
      if (p.state === 'waiting' && !this.completed && !this.nominating && !this.selectedValid) return true;
    }
    return false;
  }

  private readonly tick = (): void => {
    this.timer = null;
    if (this.closed) return;
    const now = Date.now();
    if (this.controlling && !this.nominating && this.nominateAt !== 0 && now >= this.nominateAt) this.nominate();
    let next = this.triggered.shift() ?? null;
    if (next !== null) next.triggered = false;
    else if (!this.completed && !this.nominating && !this.selectedValid) next = this.pairs.find((p) => p.state === 'waiting') ?? null;
    if (next !== null) this.check(next, now);
    for (const p of this.pairs) {
      if (p !== next && p.state === 'progress' && p.nextAt <= now && (!this.completed || p.useCandidate || p.nominated)) this.check(p, now);
    }
    if (this.hasWork()) {
      this.timer = setTimeout(this.tick, PACING_MS);
      this.timer.unref();
    }
  };

  /** Regular nomination: the best working pair is checked again with USE-CANDIDATE. */
  private nominate(): void {
    this.nominating = true;
    const best = this.pairs.find((p) => p.state === 'succeeded');
    if (!best) return;
    best.useCandidate = true;
    best.state = 'waiting';
    this.newTransaction(best);
    this.trigger(best);
  }

  private check(p: Pair, now: number): void {
    const remote = this.settings.remote;
    if (remote === null || this.username === null) return;
    if (p.state !== 'progress') {
      p.state = 'progress';
      p.rto = RTO_MS;
      p.retransmits = 0;
    } else if (p.retransmits >= MAX_RETRANSMITS) {
      p.state = 'failed';
      return;
    } else {
      p.rto *= 2;
      p.retransmits++;
    }
    p.nextAt = now + p.rto;
    p.wasControlling = this.controlling;
    const priority = typePriority(110, p.local, this.settings.component);
    this.socket.send(bindingRequest(p.tid, this.username, this.controlling, TIE_BREAKER, priority, p.useCandidate, remote.pwd), p.port, p.address, p.local);
  }
}

const byPriority = (a: Pair, b: Pair): number => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0);
