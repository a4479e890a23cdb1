import dgram from 'node:dgram';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';

const log = moduleLogger('balancer');

/** The largest reply a member may send (one IPv4 UDP datagram). */
const MAX_REPLY = 65_507;

let seq = 0;

/**
 * NG over UDP to one member: the balancer's own cookies, replies matched by cookie, one
 * retransmission (same cookie, so the member's cookie cache answers it) halfway to the timeout.
 * A reply is the member's body bytes, untouched.
 */
export class MemberLink {
  private readonly socket: dgram.Socket;
  private readonly pending = new Map<string, (body: Buffer | null) => void>();
  private readonly ready: Promise<void>;
  private closed = false;

  constructor(
    private readonly address: ListenAddress,
    private readonly timeoutMs: number,
  ) {
    this.socket = dgram.createSocket(address.host.includes(':') ? 'udp6' : 'udp4');
    // A member that is down makes the kernel report refused datagrams here: pings notice it.
    this.socket.on('error', (err) => log.debug({ member: `${this.address.host}:${this.address.port}`, err: err.message }, 'member socket error'));
    this.socket.on('message', (msg, rinfo) => this.onReply(msg, rinfo));
    // Connected: each send needs no address lookup, and only the member can answer.
    this.ready = new Promise((resolve) => this.socket.connect(address.port, address.host, () => resolve()));
  }

  private onReply(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Only the member's own address may answer, and only within one datagram's size.
    if (rinfo.port !== this.address.port || msg.length > MAX_REPLY) return;
    const sp = msg.indexOf(0x20);
    if (sp <= 0 || sp > 64) return;
    const cookie = msg.subarray(0, sp).toString('latin1');
    const done = this.pending.get(cookie);
    if (!done) return;
    this.pending.delete(cookie);
    done(msg.subarray(sp + 1));
  }

  /** Sends an NG body; resolves with the reply body, or null when the member did not answer in time. */
  async request(body: Buffer | string, timeoutMs = this.timeoutMs): Promise<Buffer | null> {
    if (this.closed) return null;
    await this.ready;
    const cookie = `b${process.pid.toString(36)}_${(++seq).toString(36)}`;
    const packet = Buffer.concat([Buffer.from(cookie + ' ', 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
    return new Promise((resolve) => {
      const send = (): void => {
        if (!this.closed) this.socket.send(packet);
      };
      const retransmit = setTimeout(send, timeoutMs / 2);
      const timer = setTimeout(() => {
        this.pending.delete(cookie);
        clearTimeout(retransmit);
        resolve(null);
      }, timeoutMs);
      this.pending.set(cookie, (reply) => {
        clearTimeout(timer);
        clearTimeout(retransmit);
        resolve(reply);
      });
      send();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const done of this.pending.values()) done(null);
    this.pending.clear();
    this.socket.close();
  }
}
