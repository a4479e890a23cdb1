import { unlinkSync, writeFileSync } from 'node:fs';

/** The daemon's PID for init scripts and systemd's PIDFile=. */
export function writePidfile(path: string | undefined): void {
  if (path) writeFileSync(path, `${process.pid}\n`);
}

export function removePidfile(path: string | undefined): void {
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}
