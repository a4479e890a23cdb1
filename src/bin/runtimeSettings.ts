import { spawn } from 'node:child_process';
import net from 'node:net';

/**
 * The runtime settings a relay needs to be as fast and as small as measured (docs/performance.md):
 * a 16 MiB young generation (a call's objects die young instead of being copied to the old
 * generation, and it is collected half as often as at 8 MiB: each collection copies the calls
 * in progress, so fewer collections cost less), one V8 background thread (more compete with the control thread for the CPUs),
 * two malloc arenas (memory comes back after a burst). V8 and the C library read them only
 * when a process starts, so they cannot be set from inside: the binary's first line sets them
 * when it is executed (`ngrelay ...`), and `node .../ngrelay.js` starts the relay again with
 * them as its child. An operator's own value of any of them wins.
 */
export const RUNTIME_FLAGS = ['--max-semi-space-size=16', '--v8-pool-size=1'] as const;
export const RUNTIME_ENV = { MALLOC_ARENA_MAX: '2' } as const;

/** Set in the child that a launcher started, to the launcher's pid. */
const LAUNCHED_BY = 'NGRELAY_LAUNCHER_PID';
/** The child's end of a pipe whose other end dies with the launcher. */
const LAUNCHER_FD = 3;
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

/** The shell line the binaries start with: it execs Node with the settings, in place (same pid). */
export function shellLauncherLine(): string {
  const env = Object.entries(RUNTIME_ENV).map(([k, v]) => `${k}="\${${k}:-${v}}"`);
  return `//bin/true; exec /usr/bin/env NODE_OPTIONS="${RUNTIME_FLAGS.join(' ')} \${NODE_OPTIONS-}" ${env.join(' ')} node "$0" "$@"`;
}

const flagName = (f: string): string => f.split('=')[0]!.replace(/_/g, '-');

/** The settings this process was started without (flags in neither its argv nor NODE_OPTIONS, unset variables). */
export function missingSettings(execArgv: readonly string[], env: NodeJS.ProcessEnv): { flags: string[]; env: Record<string, string> } {
  const given = new Set([...execArgv, ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)].map(flagName));
  return {
    flags: RUNTIME_FLAGS.filter((f) => !given.has(flagName(f))),
    env: Object.fromEntries(Object.entries(RUNTIME_ENV).filter(([k]) => env[k] === undefined)),
  };
}

/**
 * Runs `start` in this process when it has the settings; otherwise starts this same script
 * again with them, as a child that gets the launcher's stdio and signals, and whose exit code
 * (or fatal signal) becomes the launcher's. The child writes the pidfile with its own pid; if
 * the launcher is killed outright, the child kills itself the same way.
 */
export async function runWithRuntimeSettings(start: () => Promise<void>): Promise<void> {
  const missing = missingSettings(process.execArgv, process.env);
  const launched = process.env[LAUNCHED_BY] === String(process.ppid);
  if (launched || (missing.flags.length === 0 && Object.keys(missing.env).length === 0)) {
    if (launched) followLauncher();
    return start();
  }
  relaunch(missing);
}

function relaunch(missing: { flags: string[]; env: Record<string, string> }): void {
  const nodeOptions = [...missing.flags, process.env['NODE_OPTIONS'] ?? ''].join(' ').trim();
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, ...missing.env, NODE_OPTIONS: nodeOptions, [LAUNCHED_BY]: String(process.pid) },
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    // Its own process group: a terminal's Ctrl-C reaches it once, through the launcher.
    detached: true,
  });
  for (const sig of FORWARDED) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    process.stderr.write(`ngrelay: cannot start ${process.execPath}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

/** In a launched relay: when the launcher's pipe closes (it was killed), go the same way. */
function followLauncher(): void {
  delete process.env[LAUNCHED_BY];
  const pipe = new net.Socket({ fd: LAUNCHER_FD, readable: true, writable: false });
  pipe.on('error', () => undefined);
  pipe.on('close', () => process.kill(process.pid, 'SIGKILL'));
  pipe.resume();
  pipe.unref();
}
