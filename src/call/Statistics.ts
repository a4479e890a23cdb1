import type { CloseReason } from './Call.js';
import { ControlStatistics } from './ControlStatistics.js';

/** Totals since start-up, for `statistics`, `list totals` and the CLI. */
export class Statistics {
  readonly startedAt = Date.now();
  ownSessionsCreated = 0;
  foreignSessionsCreated = 0;
  rejectedSessions = 0;
  closed: Record<CloseReason, number> = {
    deleted: 0,
    timeout: 0,
    silent_timeout: 0,
    offer_timeout: 0,
    final_timeout: 0,
    terminated: 0,
    foreign_deleted: 0,
    error: 0,
  };
  /** Unexpected exceptions contained (the call they hit was ended, the relay went on). */
  internalErrors = 0;
  /** Sum of durations of closed calls, in seconds, and of their squares. */
  closedDuration = 0;
  closedDurationSquared = 0;
  /** Own calls that ended (rtpengine's "Total managed sessions": running calls are not in it). */
  managedSessions = 0;
  /** Ended own calls in which no party sent a packet, and in which only one party did. */
  noPacketSessions = 0;
  oneWaySessions = 0;
  /** NG requests per proxy and command. */
  readonly control = new ControlStatistics();
}
