/** Messages between the benchmark's coordinator and its load workers (child processes). */

/** A worker's endpoint socket is bound; every call it carries uses this port on both sides. */
export interface WorkerReady {
  type: 'ready';
  port: number;
}

/** What to send: one stream per call direction, each to a relay port, on a shared clock. */
export interface LoadPlan {
  type: 'plan';
  relayHost: string;
  /** Relay port each stream sends to. */
  destinations: number[];
  /** Epoch ms at which sending starts. */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  packetsPerSecond: number;
  /**
   * SDES per stream (AES_CM_128_HMAC_SHA1_80 master key and salt, base64), absent for plain
   * RTP: `send` protects what the stream sends, `recv` unprotects what arrives of it.
   */
  srtp?: ({ send: string | null; recv: string | null } | null)[];
}

/**
 * Sends `count` packets of one stream, one every `intervalMs`, from `startAtMono` on (the
 * shared monotonic clock, see clock.ts), spinning between packets for exact spacing; not
 * measured by the receiver. Answered with a ProbeDone once the last packet is out.
 */
export interface ProbePlan {
  type: 'probe';
  host: string;
  port: number;
  startAtMono: number;
  count: number;
  intervalMs: number;
}

export interface ProbeDone {
  type: 'probed';
  /** Monotonic send time (ms) of every probe packet. */
  sentAt: number[];
}

export interface WorkerReport {
  type: 'report';
  /** Packets sent and received inside the measured window (after warm-up). */
  sent: number;
  received: number;
  /** Streams of which no measured packet arrived (set-up or relaying failures). */
  silentStreams: number;
  sendErrors: number;
  /** SRTP packets that arrived and did not authenticate. */
  authFailures: number;
  /** Non-empty latency buckets as [bucket, count] pairs, and the maximum in µs. */
  latency: [number, number][];
  maxLatencyUs: number;
  /** This worker's own CPU over the measured window. */
  cpuUs: number;
  wallMs: number;
}

export type CoordinatorMessage = LoadPlan | ProbePlan;
export type WorkerMessage = WorkerReady | WorkerReport | ProbeDone;
