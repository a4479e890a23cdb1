import dgram from 'node:dgram';
import { decodeNgBody, type Dict } from './NgClient.js';

/** One NG request and the reply the relay sent for it. */
export interface NgExchange {
  cookie: string;
  /** The client's source, "ip:port" (Kamailio: one socket per process). */
  client: string;
  request: Dict;
  reply?: Dict;
  /** The tap kept the reply from the client (a lost reply). */
  dropped?: boolean;
}

function split(datagram: Buffer): { cookie: string; body: Buffer } {
  const sp = datagram.indexOf(0x20);
  return { cookie: datagram.subarray(0, sp).toString('latin1'), body: datagram.subarray(sp + 1) };
}

function decode(body: Buffer): Dict {
  try {
    return decodeNgBody(body);
  } catch {
    return { undecodable: body.toString('latin1') };
  }
}

/**
 * A UDP tap between an NG client (Kamailio) and a relay: forwards datagrams unchanged, one
 * upstream socket per client socket (so the relay still sees separate sources), and records
 * every request with its reply, whichever relay answers.
 */
export class NgTap {
  readonly exchanges: NgExchange[] = [];
  private readonly upstreams = new Map<string, dgram.Socket>();

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly relay: { host: string; port: number },
    private readonly dropReply: (ex: NgExchange) => boolean,
  ) {
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
  }

  /** `dropReply` decides, per exchange, whether its reply gets lost on the way back. */
  static async open(relay: { host: string; port: number }, dropReply: (ex: NgExchange) => boolean = () => false): Promise<NgTap> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new NgTap(socket, socket.address().port, relay, dropReply);
  }

  private fromClient(msg: Buffer, client: dgram.RemoteInfo): void {
    const key = `${client.address}:${client.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      up = dgram.createSocket('udp4');
      up.bind(0, '127.0.0.1');
      up.on('message', (reply) => {
        const { cookie, body } = split(reply);
        const ex = this.exchanges.find((e) => e.cookie === cookie && e.client === key && !e.reply);
        if (ex) {
          ex.reply = decode(body);
          ex.dropped = this.dropReply(ex);
          if (ex.dropped) return;
        }
        this.socket.send(reply, client.port, client.address);
      });
      this.upstreams.set(key, up);
    }
    const { cookie, body } = split(msg);
    this.exchanges.push({ cookie, client: key, request: decode(body) });
    up.send(msg, this.relay.port, this.relay.host);
  }

  close(): void {
    for (const u of this.upstreams.values()) u.close();
    this.socket.close();
  }
}
