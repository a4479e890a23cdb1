import dgram from 'node:dgram';
import type { ListenAddress } from '../config/Endpoint.js';
import { literalLookup } from '../literalLookup.js';

/** A UDP socket bound on an NG listen address; rejects with the bind error (port taken ...). */
export async function listenUdp(addr: ListenAddress): Promise<dgram.Socket> {
  const family = addr.host.includes(':') ? 6 : 4;
  // Replies go back to the address a request came from: always a literal.
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: literalLookup(family) });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(addr.port, addr.host, () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
  return socket;
}
