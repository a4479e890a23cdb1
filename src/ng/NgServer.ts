import dgram from 'node:dgram';
import { listenUdp } from './listenUdp.js';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import type { NgService } from './NgService.js';

export type { NgHandler } from './NgService.js';

const log = moduleLogger('ng');

/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;

/** The NG control listener over UDP (`listen-ng`): one datagram a request, the reply to its sender. */
export class NgServer {
  private socket: dgram.Socket | null = null;

  constructor(private readonly service: NgService) {}

  async listen(addr: ListenAddress): Promise<void> {
    const socket = await listenUdp(addr);
    socket.on('error', (err) => log.error({ err: err.message }, 'NG socket error'));
    socket.on('message', (msg, rinfo) => this.onPacket(msg, rinfo));
    this.socket = socket;
    log.info({ address: `${addr.host}:${addr.port}` }, 'NG listener ready');
  }

  private onPacket(packet: Buffer, rinfo: dgram.RemoteInfo): void {
    const reply = this.service.reply(packet, `${rinfo.address}:${rinfo.port}`, MAX_DATAGRAM);
    reply?.then(
      (bytes) => this.socket?.send(bytes, rinfo.port, rinfo.address),
      (err: Error) => log.error({ err: err.message }, 'NG reply failed'),
    );
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}
