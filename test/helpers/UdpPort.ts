import dgram from 'node:dgram';

/** Where a datagram came from. */
export interface UdpPeer {
  address: string;
  port: number;
}

/**
 * A bound UDP socket as a test phone needs it: in this process, or inside a network namespace
 * (NetnsAgent.udp), so that the same phone code runs on either side of a namespace boundary.
 */
export interface UdpPort {
  readonly address: string;
  readonly port: number;
  send(data: Buffer, port: number, address: string): void;
  /** The one receiver of every datagram from now on. */
  onMessage(listener: (data: Buffer, from: UdpPeer) => void): void;
  close(): void;
}

/** Binds `address`:`port` (0: any free port); rejects when it cannot. */
export type UdpOpener = (address: string, port?: number) => Promise<UdpPort>;

/** A socket of this process. */
export const localUdp: UdpOpener = async (address, port = 0) => {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return {
    address,
    port: socket.address().port,
    send: (data, p, a) => socket.send(data, p, a),
    onMessage: (listener) => void socket.on('message', (data, r) => listener(data, { address: r.address, port: r.port })),
    close: () => socket.close(),
  };
};
