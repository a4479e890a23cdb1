import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/Relay.js';
import { mediaRange } from '../helpers/ports.js';

const BENCH = join(ROOT, 'dist/bench/relay-bench.js');

interface BenchResult {
  relay: string;
  calls: number;
  sent: number;
  received: number;
  silentStreams: number;
  relayCpuSeconds: number;
  p50Us: number;
}

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the relay benchmark', () => {
  it('starts ngrelay, sets up calls over NG, relays RTP through it and reports every stream', async () => {
    if (!existsSync(BENCH)) throw new Error(`${BENCH} is missing: run 'npm run build' (npm test does it)`);
    const json = join(mkdtempSync(join(tmpdir(), 'relay-bench-')), 'result.json');
    const range = mediaRange(200);
    const { code, output } = await runBench(['--relays=ngrelay', '--calls=10', '--duration=1', '--warmup=0.5', '--drain=0.5',
      '--workers=2', `--port-min=${range.portMin}`, `--port-max=${range.portMax}`, `--json=${json}`]);
    process.stdout.write(output);
    expect(code, output).toBe(0);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: BenchResult[] };
    expect(results).toHaveLength(1);
    const r = results[0]!;
    expect(r.relay).toBe('ngrelay');
    expect(r.calls).toBe(10);
    // Both directions of every call came back through the relay, timestamped.
    expect(r.silentStreams).toBe(0);
    expect(r.sent).toBeGreaterThan(0);
    expect(r.received).toBeGreaterThan(0);
    expect(r.p50Us).toBeGreaterThan(0);
    expect(r.relayCpuSeconds).toBeGreaterThanOrEqual(0);
    // The relay it started is gone again.
    expect(output).toMatch(/ngrelay \(pid \d+\)/);
    const pid = Number(/ngrelay \(pid (\d+)\)/.exec(output)![1]);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
