import { moduleLogger } from '../log.js';
import type { Limits } from '../Services.js';
import type { Call, CloseReason } from './Call.js';
import type { CallRegistry } from './CallRegistry.js';

const log = moduleLogger('lifecycle');

/**
 * Which timeout ends the call now, if any. A call lives while any one of its streams is
 * inside its limit: offer-timeout before the answer, silent-timeout for media the party
 * does not send, timeout otherwise. The call is counted under the limit that held it
 * longest (an unanswered call under offer-timeout, a held one under silent-timeout).
 * Foreign calls obey only final-timeout.
 */
export function expiry(call: Call, limits: Limits, now: number): CloseReason | null {
  if (limits.finalTimeout > 0 && now >= call.created + limits.finalTimeout * 1000) return 'final_timeout';
  // A delete ends foreign calls too (one sent to a standby without active-switchover).
  if (call.destroyAt !== null) return now >= call.destroyAt ? 'deleted' : null;
  if (call.foreign) return null;
  if (now < call.graceUntil) return null;
  let anyStream = false;
  let reason: CloseReason = 'timeout';
  let latest = -Infinity;
  for (const ml of call.parties()) {
    for (const m of ml.medias) {
      const [limit, why]: [number, CloseReason] =
        m.sdpAddress === null ? [limits.offerTimeout, 'offer_timeout']
        : !m.sending ? [limits.silentTimeout, 'silent_timeout']
        : [limits.timeout, 'timeout'];
      for (const st of m.streams()) {
        anyStream = true;
        const deadline = Math.max(st.leg?.lastPacket ?? 0, call.lastSignal) + limit * 1000;
        if (now < deadline) return null;
        if (deadline > latest) {
          latest = deadline;
          reason = why;
        }
      }
    }
  }
  return anyStream ? reason : null;
}

/** The 1 s sweep that ends timed-out and deleted calls. */
export class Lifecycle {
  private timer: NodeJS.Timeout | null = null;
  /** Extra work per sweep (retrying pending binds of foreign calls). */
  readonly onSweep: ((now: number) => void)[] = [];

  constructor(
    private readonly registry: CallRegistry,
    private readonly limits: Limits,
  ) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => this.sweep(Date.now()), intervalMs);
    this.timer.unref();
  }

  sweep(now: number): void {
    for (const call of this.registry.all()) {
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

  private check(call: Call, now: number): void {
    const reason = expiry(call, this.limits, now);
    if (reason === null) return;
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
