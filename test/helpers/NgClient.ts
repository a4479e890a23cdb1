import dgram from 'node:dgram';
import bencode from 'bencode';

export type Dict = Record<string, unknown>;

function fromBencode(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) return v.map(fromBencode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromBencode(x)]));
  return v;
}

/** An NG message body (bencode or JSON, by its first byte) as plain values. */
export function decodeNgBody(body: Buffer): Dict {
  if (body[0] === 0x7b) return JSON.parse(body.toString()) as Dict;
  return fromBencode(bencode.decode(body)) as Dict;
}

let cookieSeq = 0;

/** Where an NG client's datagrams go: a local UDP socket, or one inside a network namespace. */
export interface DatagramTransport {
  ready: Promise<void>;
  send(data: Buffer, port: number, host: string): void;
  onMessage(listener: (msg: Buffer) => void): void;
  offMessage(listener: (msg: Buffer) => void): void;
  close(): void;
}

/** A UDP socket on 127.0.0.1 in this process's namespace. */
export function loopbackTransport(): DatagramTransport {
  const socket = dgram.createSocket('udp4');
  return {
    ready: new Promise((r) => socket.bind(0, '127.0.0.1', () => r())),
    send: (data, port, host) => socket.send(data, port, host),
    onMessage: (l) => socket.on('message', l),
    offMessage: (l) => socket.removeListener('message', l),
    close: () => socket.close(),
  };
}

/** A Kamailio-like NG client: one UDP socket, cookie-matched replies, bencode or JSON. */
export class NgClient {
  private readonly pending = new Map<string, (reply: Buffer) => void>();
  private ready: Promise<void>;

  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
    private readonly socket: DatagramTransport = loopbackTransport(),
  ) {
    this.socket.onMessage((msg) => {
      const sp = msg.indexOf(0x20);
      const cookie = msg.subarray(0, sp).toString();
      const cb = this.pending.get(cookie);
      if (cb) {
        this.pending.delete(cookie);
        cb(msg.subarray(sp + 1));
      }
    });
    this.ready = socket.ready;
  }

  /**
   * Sends raw bytes as `COOKIE SP BODY` and resolves with the raw reply body. Like Kamailio,
   * it sends the same datagram again every second until the reply comes (a datagram lost on a
   * busy machine is not a relay failure; the relay answers a repeat from its cookie cache).
   */
  async raw(body: Uint8Array | string, cookie = `t${process.pid}_${++cookieSeq}`, timeoutMs = 3000): Promise<Buffer> {
    await this.ready;
    const datagram = Buffer.concat([Buffer.from(cookie + ' '), Buffer.from(body)]);
    return new Promise((resolve, reject) => {
      const retry = setInterval(() => this.socket.send(datagram, this.port, this.host), 1000);
      const timer = setTimeout(() => {
        clearInterval(retry);
        this.pending.delete(cookie);
        reject(new Error(`no NG reply for cookie ${cookie} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(cookie, (b) => {
        clearTimeout(timer);
        clearInterval(retry);
        resolve(b);
      });
      this.socket.send(datagram, this.port, this.host);
    });
  }

  /** Sends a bytes-exact datagram and waits for any reply (or none). */
  async datagram(bytes: Buffer, waitMs = 500): Promise<Buffer | null> {
    await this.ready;
    return new Promise((resolve) => {
      const onMsg = (m: Buffer): void => {
        clearTimeout(t);
        this.socket.offMessage(onMsg);
        resolve(m);
      };
      const t = setTimeout(() => {
        this.socket.offMessage(onMsg);
        resolve(null);
      }, waitMs);
      this.socket.onMessage(onMsg);
      this.socket.send(bytes, this.port, this.host);
    });
  }

  async request(dict: Dict, opts: { json?: boolean; cookie?: string; timeoutMs?: number } = {}): Promise<Dict> {
    const body = opts.json ? Buffer.from(JSON.stringify(dict)) : Buffer.from(bencode.encode(dict));
    return decodeNgBody(await this.raw(body, opts.cookie, opts.timeoutMs));
  }

  /** Like request(), but fails the test on `result: error`. */
  async ok(dict: Dict): Promise<Dict> {
    const r = await this.request(dict);
    if (r['result'] !== 'ok' && r['result'] !== 'pong') throw new Error(`NG ${String(dict['command'])} failed: ${JSON.stringify(r)}`);
    return r;
  }

  private closed = false;

  /** Idempotent: a test may stop a relay it killed earlier. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
