#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { CTL_USAGE } from '../cli/ctlOptions.js';
import { parseKeyFile } from '../config/KeyFile.js';

const DEFAULT_CONFIG = '/etc/rtpengine/rtpengine.conf';

/**
 * rtpengine-ctl's argument handling: -ip ADDR[:PORT], -port N, then the command words; without
 * them, `listen-cli` of /etc/rtpengine/rtpengine.conf (or -config FILE), else 127.0.0.1:9900.
 * `--balancer` first: the admin CLI of ngrelay-balancer (its own config file, section and port).
 * `from` says where the address came from, for the error message.
 */
function target(args: string[]): { host: string; port: number; words: string[]; from: string } {
  const balancer = args[0] === '--balancer';
  if (balancer) args = args.slice(1);
  let host = '127.0.0.1';
  let port = balancer ? 9901 : 9900;
  let from = 'default';
  const ci = args.indexOf('-config');
  const configFile = ci >= 0 && args[ci + 1] ? args[ci + 1]! : balancer ? '/etc/ngrelay/ngrelay-balancer.conf' : DEFAULT_CONFIG;
  if (ci >= 0) args.splice(ci, 2);
  try {
    const v = parseKeyFile(readFileSync(configFile, 'utf8')).get(balancer ? 'balancer' : 'rtpengine')?.get('listen-cli');
    if (v) {
      const i = v.lastIndexOf(':');
      if (i > 0) host = v.slice(0, i);
      port = Number(v.slice(i + 1));
      from = `listen-cli from ${configFile}`;
    }
  } catch {
    /* no config: defaults */
  }
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-ip' || a === '-port') from = `${a} on the command line`;
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
  return { host, port, words, from };
}

const { host, port, words, from } = target(process.argv.slice(2));
if (words.length === 0) {
  process.stderr.write(CTL_USAGE);
  process.exit(1);
}
const sock = net.connect({ host, port }, () => sock.write(words.join(' ') + '\n'));
sock.setTimeout(3000, () => {
  process.stderr.write(`ngrelay-ctl: timed out talking to ${host}:${port} (${from})\n`);
  process.exit(1);
});
sock.on('data', (d) => process.stdout.write(d));
sock.on('error', (e) => {
  process.stderr.write(`ngrelay-ctl: ${e.message} (${from})\n`);
  process.exit(1);
});
sock.on('end', () => process.exit(0));
