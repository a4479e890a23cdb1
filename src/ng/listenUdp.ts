import dgram from 'node:dgram';
import type { ListenAddress } from '../config/Endpoint.js';

/** A UDP socket bound on an NG listen address; rejects with the bind error (port taken ...). */
export async function listenUdp(addr: ListenAddress): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: addr.host.includes(':') ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(addr.port, addr.host, () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
  return socket;
}
