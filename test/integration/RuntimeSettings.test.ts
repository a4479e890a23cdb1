import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Relay, runDaemon, waitFor } from '../helpers/Relay.js';
import { spawn } from 'node:child_process';
import { DAEMON } from '../helpers/Relay.js';

// The relay's runtime settings (docs/operations.md, "Runtime settings") whichever way it starts:
// as the installed binary (one process) or as `node .../ngrelay.js` (a launcher and the relay).

const pidfile = (): string => join(mkdtempSync(join(tmpdir(), 'ngrelay-rt-')), 'ngrelay.pid');
const environ = (pid: number): Map<string, string> =>
  new Map(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
const coreLevel = async (r: Relay): Promise<number> => Number(/^core = (\d)$/m.exec(await r.cli('get loglevel'))![1]);

describe('runtime settings', () => {
  it('the binary started with no options runs the relay with them, in its own process', async () => {
    const pf = pidfile();
    const relay = await Relay.start({ args: [`--pidfile=${pf}`] });
    try {
      expect(readFileSync(pf, 'utf8').trim()).toBe(String(relay.pid));
      const env = environ(relay.pid);
      expect(env.get('MALLOC_ARENA_MAX')).toBe('2');
      expect(env.get('NODE_OPTIONS')!.trim().split(/\s+/)).toEqual(['--max-semi-space-size=16', '--v8-pool-size=1']);
      expect(readFileSync(`/proc/${relay.pid}/cmdline`, 'utf8').split('\0')[1]).toBe(DAEMON);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it("keeps an operator's own values", async () => {
    const relay = await Relay.start({ env: { MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--v8-pool-size=2' } });
    try {
      const env = environ(relay.pid);
      expect(env.get('MALLOC_ARENA_MAX')).toBe('4');
      // Of two values Node takes the last.
      expect(env.get('NODE_OPTIONS')!.trim().split(/\s+/).at(-1)).toBe('--v8-pool-size=2');
    } finally {
      await relay.stop();
    }
  });

  it('as `node ngrelay.js`, starts the relay with them as its child, passes signals on once and exits with its code', async () => {
    const pf = pidfile();
    const relay = await Relay.start({ viaNode: true, args: [`--pidfile=${pf}`, '--log-level=6'] });
    try {
      const child = Number(readFileSync(pf, 'utf8').trim());
      expect(child).not.toBe(relay.pid);
      expect(parentOf(child)).toBe(relay.pid);
      expect(environ(child).get('MALLOC_ARENA_MAX')).toBe('2');
      expect(environ(child).get('NODE_OPTIONS')!.trim().split(/\s+/)).toEqual(['--max-semi-space-size=16', '--v8-pool-size=1']);

      relay.proc.kill('SIGHUP');
      await waitFor('the reload', () => relay.output.includes('SIGHUP: config reloaded'));
      expect(await coreLevel(relay)).toBe(6);
      // One signal to the launcher is one step of the log level.
      relay.proc.kill('SIGUSR1');
      await waitFor('the log level to fall', async () => (await coreLevel(relay)) !== 6);
      expect(await coreLevel(relay)).toBe(5);
      relay.proc.kill('SIGUSR2');
      await waitFor('the log level to rise', async () => (await coreLevel(relay)) !== 5);
      expect(await coreLevel(relay)).toBe(6);
    } finally {
      expect(await relay.stop('SIGTERM')).toBe(0);
    }
    expect(existsSync(pf)).toBe(false);
  });

  it("as `node ngrelay.js`, exits with the relay's error code, and the relay does not outlive a killed launcher", async () => {
    const bad = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const p = spawn(process.execPath, [DAEMON, '--config-file=none', '--no-such-option'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      p.stderr.on('data', (d: Buffer) => (output += d.toString()));
      p.on('exit', (code) => resolve({ code, output }));
    });
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('ngrelay: Unknown argument: no-such-option');

    const pf = pidfile();
    const relay = await Relay.start({ viaNode: true, args: [`--pidfile=${pf}`] });
    const child = Number(readFileSync(pf, 'utf8').trim());
    expect(alive(child)).toBe(true);
    relay.proc.kill('SIGKILL');
    await relay.exited;
    await waitFor('the relay to end with its launcher', () => !alive(child));
  });

  it('the binary itself exits with its error code', async () => {
    const r = await runDaemon(['--config-file=none', '--no-such-option']);
    expect(r.code).toBe(1);
    expect(r.output).toContain('ngrelay: Unknown argument: no-such-option');
  });
});
