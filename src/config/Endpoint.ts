import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `[IP:]PORT`, `[IPv6]:PORT`; the address defaults to the given host. */
export function parseListenAddress(v: string, defaultHost: string): ListenAddress {
  const s = v.trim();
  let host = defaultHost;
  let portStr = s;
  const m6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (m6) {
    host = m6[1]!;
    portStr = m6[2]!;
  } else if (s.includes(':')) {
    const idx = s.lastIndexOf(':');
    host = s.slice(0, idx);
    portStr = s.slice(idx + 1);
  }
  const port = Number(portStr);
  if (!/^\d+$/.test(portStr) || port < 1 || port > 65535) throw new Error(`invalid port in '${v}'`);
  if (host !== 'localhost' && isIP(host) === 0) throw new Error(`invalid address in '${v}'`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}
