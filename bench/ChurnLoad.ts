import { performance } from 'node:perf_hooks';
import { audioSdp, callTags } from './calls.js';
import { LatencyHistogram } from './LatencyHistogram.js';
import { NgControl } from './NgControl.js';

export interface ChurnResult {
  calls: number;
  failures: number;
  /** Round trips of every offer, answer and delete, µs. */
  histogram: LatencyHistogram;
  seconds: number;
}

export interface ChurnLoad {
  stop(): Promise<ChurnResult>;
}

/**
 * Signalling load beside the media: calls set up and torn down (offer, answer, delete as
 * Kamailio sends them) with `inFlight` calls at a time, started no faster than `perSecond`
 * so that both relays get the same work. Its calls never send media. On its own NG socket.
 */
export function startChurn(host: string, port: number, inFlight: number, perSecond: number, prefix: string): ChurnLoad {
  const ng = new NgControl(host, port);
  const histogram = new LatencyHistogram();
  const t0 = performance.now();
  let started = 0;
  let calls = 0;
  let failures = 0;
  let stopping = false;
  const timed = async (dict: Record<string, unknown>): Promise<void> => {
    const t = performance.now();
    const r = await ng.request(dict);
    histogram.record((performance.now() - t) * 1000);
    if (r['result'] !== 'ok') throw new Error(String(r['error-reason']));
  };
  const slot = async (): Promise<void> => {
    while (!stopping) {
      const k = started++;
      const wait = t0 + (k * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopping) return;
      const id = `${prefix}-${k}`;
      const tags = callTags(id);
      const common = { 'call-id': id, 'from-tag': tags.from, replace: ['origin', 'session-connection'], ICE: 'remove' };
      // Ports no one listens on: the churn's calls carry no media.
      const at = (p: number): { address: string; port: number } => ({ address: '127.0.0.1', port: 9000 + ((k * 2 + p) % 1000) * 2 });
      try {
        await timed({ ...common, command: 'offer', sdp: audioSdp(at(0), 'caller') });
        await timed({ ...common, command: 'answer', 'to-tag': tags.to, sdp: audioSdp(at(1), 'callee') });
        await timed({ command: 'delete', 'call-id': id, 'from-tag': tags.from });
        calls++;
      } catch {
        failures++;
      }
    }
  };
  const slots = Array.from({ length: inFlight }, slot);
  return {
    async stop() {
      stopping = true;
      const seconds = (performance.now() - t0) / 1000;
      await Promise.all(slots);
      ng.close();
      return { calls, failures, histogram, seconds };
    },
  };
}
