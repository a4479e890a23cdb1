import dgram from 'node:dgram';
import { decodeRequest, encodeReply, splitCookie } from '../src/ng/codec.js';

export type NgDict = Record<string, unknown>;

/** The signalling side of the benchmark: bencode NG requests over UDP, as Kamailio sends them. */
export class NgControl {
  private readonly socket = dgram.createSocket('udp4');
  private readonly pending = new Map<string, (body: Buffer) => void>();
  private readonly bound: Promise<void>;
  private seq = 0;
  /** Cookies differ between instances too: a relay caches replies by cookie alone. */
  private static instances = 0;
  private readonly instance = ++NgControl.instances;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.socket.on('message', (msg) => {
      const split = splitCookie(msg);
      const done = split && this.pending.get(split.cookie);
      if (split && done) {
        this.pending.delete(split.cookie);
        done(split.body);
      }
    });
    this.bound = new Promise((r) => this.socket.bind(0, '127.0.0.1', () => r()));
  }

  /** Sends one request, retransmitting like Kamailio does until a reply or the deadline. */
  async request(dict: NgDict, timeoutMs = 3000): Promise<NgDict> {
    await this.bound;
    const cookie = `b${process.pid}_${this.instance}_${++this.seq}`;
    // Keys in the dict's own order, unsorted, as Kamailio sends them (the relay's encoder keeps the order).
    const datagram = encodeReply(cookie, dict as Parameters<typeof encodeReply>[1], 'bencode');
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const retry = setInterval(() => this.socket.send(datagram, this.port, this.host), 500);
      const timer = setTimeout(() => {
        clearInterval(retry);
        this.pending.delete(cookie);
        reject(new Error(`no NG reply to ${String(dict['command'])} from ${this.host}:${this.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(cookie, (b) => {
        clearInterval(retry);
        clearTimeout(timer);
        resolve(b);
      });
      this.socket.send(datagram, this.port, this.host);
    });
    // A reply is a dict like a request; the daemon's own decoder reads both.
    return decodeRequest(reply).dict;
  }

  /** Resolves once the relay answers `ping`, or rejects at the deadline. */
  async waitPong(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const r = await this.request({ command: 'ping' }, 500);
        if (r['result'] === 'pong') return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${this.host}:${this.port} did not answer ping with pong`);
    }
  }

  close(): void {
    this.socket.close();
  }
}
