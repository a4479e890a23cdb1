import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

/** A port that is free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
}

/** Ports a daemon binds itself (its media range, RTCP one above): a control port is chosen elsewhere. */
export interface PortRange {
  portMin: number;
  portMax: number;
}

/** Linux's default ephemeral range, where the ports of `freePort` come from too. */
const EPHEMERAL_MIN = 32768;
const EPHEMERAL_MAX = 60999;

/**
 * `count` ports free for TCP and UDP on `host`, as seen where the daemon will bind them: inside
 * `netns` when it runs in one (the root namespace's free ports say nothing about a lab's), and
 * never in the daemon's own media range (`avoid`), which it binds itself.
 */
export async function controlPorts(count: number, o: { netns?: string; host?: string; avoid?: PortRange } = {}): Promise<number[]> {
  const host = o.host ?? '127.0.0.1';
  const [min, max] = o.avoid ? [o.avoid.portMin, o.avoid.portMax + 1] : [1, 0];
  const [from, to] = drawRange(min, max);
  if (o.netns === undefined && from === EPHEMERAL_MIN) {
    const out: number[] = [];
    while (out.length < count) {
      const p = await freePort(host);
      if ((p < min || p > max) && !out.includes(p)) out.push(p);
    }
    return out;
  }
  // What is bound where the daemon runs (TCP and UDP, any address), as `ss` lists it there.
  const ss = o.netns === undefined ? ['ss', '-Htuan'] : ['ip', 'netns', 'exec', o.netns, 'ss', '-Htuan'];
  const listing = await new Promise<string>((resolve, reject) =>
    execFile(ss[0]!, ss.slice(1), (e, out, err) => (e ? reject(new Error(`ss in ${o.netns ?? 'the root namespace'}: ${err || e.message}`)) : resolve(out))));
  const bound = new Set(listing.split('\n').map((l) => Number(l.trim().split(/\s+/)[4]?.split(':').pop())));
  const out: number[] = [];
  while (out.length < count) {
    const p = from + Math.floor(Math.random() * (to - from + 1));
    if (!bound.has(p) && (p < min || p > max) && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * Where control ports are drawn from: the ephemeral range, unless the daemon's media range
 * (`min`..`max`, RTCP included) covers all of it; then the free stretch above or below it.
 */
function drawRange(min: number, max: number): [number, number] {
  if (min > EPHEMERAL_MIN || max < EPHEMERAL_MAX) return [EPHEMERAL_MIN, EPHEMERAL_MAX];
  if (max < 65000) return [max + 1, 65535];
  if (min > 2024) return [1024, min - 1];
  throw new Error(`no control port outside the media range ${min}-${max}`);
}

/** A media port range for one daemon, below Linux's ephemeral range so clients do not collide. */
export function mediaRange(width = 400): { portMin: number; portMax: number } {
  const base = 20000 + 2 * Math.floor(Math.random() * ((12000 - width) / 2));
  return { portMin: base, portMax: base + width - 1 };
}

/** Whether some socket holds UDP `port` on `address` (our own bind attempt fails with EADDRINUSE). */
export function isUdpBound(address: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      if (e.code === 'EADDRINUSE') resolve(true);
      else reject(e);
    });
    s.bind({ port, address, exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/** The even first port of `width` consecutive ports nobody (other daemons on this machine) holds right now. */
export async function quietRange(width: number, addresses = ['127.0.0.1']): Promise<number> {
  for (;;) {
    const { portMin } = mediaRange(200);
    let free = true;
    for (let p = portMin; p < portMin + width && free; p++) {
      for (const a of addresses) if (free && (await isUdpBound(a, p))) free = false;
    }
    if (free) return portMin;
  }
}
