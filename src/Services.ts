import type { Config } from './config/Config.js';
import type { CallRegistry } from './call/CallRegistry.js';
import type { Call } from './call/Call.js';
import type { LocalInterfaces } from './media/LocalInterface.js';
import type { LegObserver, MediaPlane, PacketTap } from './media/MediaPlane.js';
import type { MediaRates } from './media/MediaRates.js';

/** What the call model asks of the optional subsystems (Redis store, recorder, ownership); built once by the composition root. */
export interface CallHooks {
  /** A leg learned or confirmed an endpoint, or saw activity on a foreign call. */
  legObserver(call: Call): LegObserver | null;
  /** Signalling reached a foreign call: make it ours (active-switchover). */
  takeOver(call: Call): void;
  /** Waits (bounded) until the call's latest state is in Redis. */
  flushed(call: Call): Promise<void>;
  /** The pcap tap of a call that is being recorded. */
  tap(call: Call): PacketTap | null;
  startRecording(call: Call): void;
  stopRecording(call: Call): void;
  /** Stops writing packets but keeps the recording open for a later `startRecording`. */
  pauseRecording(call: Call): void;
}

export interface Limits {
  maxSessions: number;
  maxTranscodedMedia: number;
  /** Seconds. */
  timeout: number;
  silentTimeout: number;
  offerTimeout: number;
  finalTimeout: number;
  deleteDelay: number;
  /** rtpengine's load limits: shown and set over the CLI, not enforced by ngrelay (0 = off). */
  maxLoad: number;
  maxCpu: number;
  maxBandwidth: number;
}

export function limitsFrom(c: Config): Limits {
  return {
    maxSessions: c.maxSessions,
    maxTranscodedMedia: c.maxTranscodedMedia,
    timeout: c.timeout,
    silentTimeout: c.silentTimeout,
    offerTimeout: c.offerTimeout,
    finalTimeout: c.finalTimeout,
    deleteDelay: c.deleteDelay,
    maxLoad: 0,
    maxCpu: 0,
    maxBandwidth: 0,
  };
}

/** What command handlers need: configuration, interfaces, the call table and the hooks. */
export interface Services {
  config: Config;
  interfaces: LocalInterfaces;
  /** Allocates and binds media ports; the only way to media. */
  media: MediaPlane;
  registry: CallRegistry;
  hooks: CallHooks;
  /** Limits and timeouts the CLI can change at run time (`set maxsessions`, `set timeout` ...). */
  limits: Limits;
  /** Packet, byte and error rates, sampled each second. */
  rates: MediaRates;
}
