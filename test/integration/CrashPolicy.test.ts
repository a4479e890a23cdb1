import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterRelay, numSessions, TestCall } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, waitFor } from '../helpers/Relay.js';

// What the relay does with a failure that escapes every call (docs/operations.md, "When the
// relay exits on its own"). The fault is real code loaded into the daemon with Node's
// --import, thrown from a signal handler, i.e. from an event callback outside any call.

function faultOnSigwinch(kind: 'throw' | 'reject'): NodeJS.ProcessEnv {
  const file = join(mkdtempSync(join(tmpdir(), 'ngrelay-fault-')), 'fault.mjs');
  const fault = kind === 'throw' ? "throw new Error('injected fault')" : "void Promise.reject(new Error('injected fault'))";
  writeFileSync(file, `import { isMainThread } from 'node:worker_threads';\nif (isMainThread) process.on('SIGWINCH', () => { ${fault}; });\n`);
  return { NODE_OPTIONS: `--import=${file}` };
}

/** Loading the fault into every thread slows the start on a busy machine. */
const STARTUP_MS = 60_000;

async function internalErrors(httpPort: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return valueOf(parseExposition(text), 'ngrelay_internal_errors_total', {});
}

describe('crash policy', { timeout: 180_000 }, () => {
  it('exits with code 70 on an uncaught exception, and the restarted relay restores its calls from Redis', async () => {
    const redis = await RedisServer.start();
    const env = faultOnSigwinch('throw');
    let relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], env, waitReady: false });
    await relay.waitReady(STARTUP_MS);
    const call = await TestCall.place(relay, 'crash-1');
    try {
      await call.mediaFlows();
      relay.proc.kill('SIGWINCH');
      expect(await relay.exited).toBe(70);
      expect(relay.output).toMatch(/uncaught exception: the relay's state cannot be trusted; exiting \(code 70\) for a restart/);
      expect(relay.output).toContain('injected fault');
      // What systemd's Restart=on-failure does next.
      relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: relay.portMin, portMax: relay.portMax, env, waitReady: false });
      await relay.waitReady(STARTUP_MS);
      expect(await numSessions(relay)).toEqual({ own: 1, foreign: 0, total: 1 });
      await call.mediaFlows();
    } finally {
      call.close();
      await relay.stop();
      await redis.stop();
    }
  });

  it('counts an unhandled rejection in ngrelay_internal_errors_total and goes on', async () => {
    const httpPort = await freePort();
    const relay = await Relay.start({ args: [`--listen-http=127.0.0.1:${httpPort}`], env: faultOnSigwinch('reject'), waitReady: false });
    await relay.waitReady(STARTUP_MS);
    try {
      expect(await internalErrors(httpPort)).toBe(0);
      relay.proc.kill('SIGWINCH');
      await waitFor('the rejection to be counted', async () => (await internalErrors(httpPort)) === 1);
      expect(relay.output).toMatch(/unhandled rejection/);
      expect((await relay.ng.request({ command: 'ping' }))['result']).toBe('pong');
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
