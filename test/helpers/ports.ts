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
