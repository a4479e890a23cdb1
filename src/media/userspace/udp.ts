import dgram from 'node:dgram';
import { literalLookup } from '../../literalLookup.js';

/** Binds a UDP socket to one specific local address and port; rejects with the bind error. */
export function bindUdp(address: string, family: 4 | 6, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: literalLookup(family),
      ipv6Only: family === 6,
    });
    const onError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}

/** Binds RTP and RTCP of a pair at once; null, with neither left bound, when either fails. */
export async function bindUdpPair(address: string, family: 4 | 6, port: number): Promise<[dgram.Socket, dgram.Socket] | null> {
  const [rtp, rtcp] = await Promise.allSettled([bindUdp(address, family, port), bindUdp(address, family, port + 1)]);
  if (rtp.status === 'fulfilled' && rtcp.status === 'fulfilled') return [rtp.value, rtcp.value];
  if (rtp.status === 'fulfilled') rtp.value.close();
  if (rtcp.status === 'fulfilled') rtcp.value.close();
  return null;
}
