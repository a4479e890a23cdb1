import { readFileSync } from 'node:fs';

/** The package version, from package.json (two levels up from dist/src, one from src). */
export function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const p = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'ngrelay' && p.version) return p.version;
    } catch {
      /* try the next */
    }
  }
  return 'unknown';
}

/** What `ngrelay --version` prints (rtpengine prints `Version: X`). */
export function versionText(): string {
  return `Version: ${packageVersion()} (ngrelay, rtpengine 10.5 compatible)\n`;
}
