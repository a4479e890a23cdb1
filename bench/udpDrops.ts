import { readFileSync } from 'node:fs';

/**
 * Datagrams the kernel dropped at UDP sockets of this network namespace because their
 * receive buffer was full (the `drops` column of /proc/net/udp and udp6), summed over the
 * sockets whose local port `mine` accepts. Counted per socket over its lifetime: take the
 * difference of two readings while the same sockets are open.
 */
export function udpDrops(mine: (port: number) => boolean): number {
  let n = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = parseInt(f[1]!.split(':')[1]!, 16);
      if (mine(port)) n += Number(f[f.length - 1]);
    }
  }
  return n;
}
