#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseKeyFile } from '../config/KeyFile.js';

/** rtpengine-ctl's argument handling: -ip ADDR[:PORT], -port N, then the command words. */
function target(args: string[]): { host: string; port: number; words: string[] } {
  // `--balancer`: the admin CLI of ngrelay-balancer (its own config file and default port).
  const balancer = args[0] === '--balancer';
  if (balancer) args = args.slice(1);
  let host = '127.0.0.1';
  let port = balancer ? 9901 : 9900;
  try {
    const [file, section] = balancer ? ['/etc/ngrelay/ngrelay-balancer.conf', 'balancer'] : ['/etc/rtpengine/rtpengine.conf', 'rtpengine'];
    const v = parseKeyFile(readFileSync(file, 'utf8')).get(section)?.get('listen-cli');
    if (v) {
      const i = v.lastIndexOf(':');
      if (i > 0) host = v.slice(0, i);
      port = Number(v.slice(i + 1));
    }
  } catch {
    /* no config: defaults */
  }
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-ip' && args[i + 1]) {
      const v = args[++i]!;
      const m = /^(.*):(\d+)$/.exec(v);
      if (m && !v.startsWith('[') && v.split(':').length === 2) {
        host = m[1]!;
        port = Number(m[2]);
      } else host = v.replace(/^\[|\]$/g, '');
    } else if (a === '-port' && args[i + 1]) {
      port = Number(args[++i]);
    } else words.push(a);
  }
  return { host, port, words };
}

const { host, port, words } = target(process.argv.slice(2));
if (words.length === 0) {
  process.stderr.write('Usage: ngrelay-ctl [--balancer] [-ip ADDR[:PORT]] [-port PORT] COMMAND...\n');
  process.exit(1);
}
const sock = net.connect({ host, port }, () => sock.write(words.join(' ') + '\n'));
sock.setTimeout(3000, () => {
  process.stderr.write('ngrelay-ctl: timed out\n');
  process.exit(1);
});
sock.on('data', (d) => process.stdout.write(d));
sock.on('error', (e) => {
  process.stderr.write(`ngrelay-ctl: ${e.message}\n`);
  process.exit(1);
});
sock.on('end', () => process.exit(0));
