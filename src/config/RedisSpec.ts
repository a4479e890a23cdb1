import { isIP } from 'node:net';

/** `[PW@]HOST:PORT/DB`, the value of `redis` and `redis-write`. */
export interface RedisSpec {
  host: string;
  port: number;
  db: number;
  password?: string;
}

export function parseRedisSpec(v: string, envPassword?: string): RedisSpec {
  let rest = v.trim();
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    password = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const m = /^(\[[^\]]+\]|[^:/]+):(\d+)\/(\d+)$/.exec(rest);
  if (!m) throw new Error('expected [PW@]HOST:PORT/DB');
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  const db = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`invalid port ${m[2]}`);
  if (db > 15 && db > 65535) throw new Error(`invalid database number ${m[3]}`);
  if (isIP(host) === 0 && !/^[A-Za-z0-9.-]+$/.test(host)) throw new Error(`invalid host '${host}'`);
  return { host, port, db, password: password ?? (envPassword || undefined) };
}

/** For logs: never show the password. */
export function describeRedis(spec: RedisSpec): string {
  return `${spec.password ? '***@' : ''}${spec.host}:${spec.port}/${spec.db}`;
}
