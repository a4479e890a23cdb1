import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The soft limit on open files of this process (`Max open files` in /proc/self/limits). */
export function openFilesLimit(): string {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? m[1]! : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Sets soft and hard limit as rtpengine does (Node has no setrlimit: util-linux's prlimit does it). */
export function setOpenFilesLimit(n: number): boolean {
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:${n}`], { stdio: 'ignore', timeout: 2000 });
  return r.status === 0;
}
