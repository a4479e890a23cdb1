import { moduleLogger } from '../log.js';
import type { Limits } from '../Services.js';
import type { Call, CloseReason } from './Call.js';
import type { CallRegistry } from './CallRegistry.js';
import type { Monologue } from './Monologue.js';
import type { Stream } from './Stream.js';

const log = moduleLogger('lifecycle');

/**
 * Which timeout ends the call now, if any. A call lives while any one of its streams is
 * inside its limit: offer-timeout before the answer, silent-timeout for media the party
 * does not send, timeout otherwise. The call is counted under the limit that held it
 * longest (an unanswered call under offer-timeout, a held one under silent-timeout).
 * A call without streams falls under silent-timeout. Foreign calls obey only final-timeout.
 */
export function expiry(call: Call, limits: Limits, now: number): CloseReason | null {
  if (limits.finalTimeout > 0 && now >= call.created + limits.finalTimeout * 1000) return 'final_timeout';
  // A delete ends foreign calls too (one sent to a standby without active-switchover).
  if (call.destroyAt !== null) return now >= call.destroyAt ? 'deleted' : null;
  if (call.foreign) return null;
  if (now < call.graceUntil) return null;
  // Runs every second over every call: no arrays, no closures.
  const state: Sweep = { anyStream: false, reason: 'timeout', latest: -Infinity };
  for (const ml of call.monologues.values()) if (alive(ml, call, limits, now, state)) return null;
  if (call.pending && alive(call.pending, call, limits, now, state)) return null;
  if (state.anyStream) return state.reason;
  // No stream at all (every m= line refused, or only non-RTP passed on): it ends like a party
  // that sends nothing, as in rtpengine, where such media keep socketless streams.
  return now >= call.lastSignal + limits.silentTimeout * 1000 ? 'silent_timeout' : null;
}

interface Sweep {
  anyStream: boolean;
  reason: CloseReason;
  latest: number;
}

/** Whether one stream of the party is inside its limit; else notes the latest deadline and its reason. */
function alive(ml: Monologue, call: Call, limits: Limits, now: number, state: Sweep): boolean {
  for (const m of ml.medias) {
    let limit = limits.timeout;
    let why: CloseReason = 'timeout';
    if (m.sdpAddress === null) {
      limit = limits.offerTimeout;
      why = 'offer_timeout';
    } else if (!m.sending) {
      limit = limits.silentTimeout;
      why = 'silent_timeout';
    }
    if (streamAlive(m.rtp, call, limit * 1000, why, now, state) || streamAlive(m.rtcp, call, limit * 1000, why, now, state)) return true;
  }
  return false;
}

function streamAlive(st: Stream | null, call: Call, limitMs: number, why: CloseReason, now: number, state: Sweep): boolean {
  if (st === null) return false;
  state.anyStream = true;
  const deadline = Math.max(st.leg?.lastPacket ?? 0, call.lastSignal) + limitMs;
  if (now < deadline) return true;
  if (deadline > state.latest) {
    state.latest = deadline;
    state.reason = why;
  }
  return false;
}

/** The 1 s sweep that ends timed-out and deleted calls. */
export class Lifecycle {
  private timer: NodeJS.Timeout | null = null;
  /** Calls whose end is queued behind a change in progress (not queued twice). */
  private readonly ending = new WeakSet<Call>();

  constructor(
    private readonly registry: CallRegistry,
    private readonly limits: Limits,
    /** Extra work per sweep (media rates, retrying pending binds of foreign calls). */
    private readonly onSweep: readonly ((now: number) => void)[] = [],
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.sweep(Date.now()), intervalMs);
    this.timer.unref();
  }

  sweep(now: number): void {
    // The table itself, not a copy: destroy() removes the current entry, which a Map iterator allows.
    for (const call of this.registry.values()) {
      try {
        this.check(call, now);
      } catch (e) {
        this.registry.contain(call, e, 'timeout sweep');
      }
    }
    for (const f of this.onSweep) {
      try {
        f(now);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'sweep hook failed');
      }
    }
  }

  /** An expired call ends on its queue, after whatever change is under way; it may have revived by then. */
  private check(call: Call, now: number): void {
    if (this.ending.has(call) || expiry(call, this.limits, now) === null) return;
    this.ending.add(call);
    void call.serialize(async () => {
      this.ending.delete(call);
      if (call.destroyed) return;
      try {
        const reason = expiry(call, this.limits, Date.now());
        if (reason !== null) this.end(call, reason);
      } catch (e) {
        this.registry.contain(call, e, 'timeout');
      }
    });
  }

  private end(call: Call, reason: CloseReason): void {
    if (reason === 'deleted') {
      // Its record went at delete time already.
      this.registry.destroy(call, 'deleted', false);
    } else {
      log.info({ callId: call.callId, reason }, 'Closing call due to timeout');
      this.registry.destroy(call, reason);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
