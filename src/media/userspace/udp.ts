import dgram from 'node:dgram';

// dgram resolves every send() address through dns.lookup, which costs a tick and an
// allocation per packet even for literals; our destinations are always IP literals.
function literalLookup4(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, 4);
}
function literalLookup6(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, 6);
}

/** Binds a UDP socket to one specific local address and port; rejects with the bind error. */
export function bindUdp(address: string, family: 4 | 6, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      lookup: (family === 6 ? literalLookup6 : literalLookup4) as unknown as dgram.SocketOptions['lookup'],
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
