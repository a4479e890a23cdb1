import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** A frame as a client sends it (masked), with any opcode and FIN, for tests of a server. */
export function clientFrame(opcode: number, payload: Buffer, fin = true, masked = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 0x10000 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len >= 126 && len < 0x10000) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 0x10000) {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  head[1]! |= 0x80;
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

/** A WebSocket client on a raw socket: the handshake, frames written as given, frames read as they come. */
export class RawWebSocket {
  readonly frames: ServerFrame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);

  private constructor(private readonly sock: net.Socket, readonly response: string) {
    sock.on('close', () => (this.closed = true));
  }

  /** Opens a connection and upgrades it with `protocol`; resolves with the HTTP response head. */
  static async open(port: number, protocol: string, host = '127.0.0.1'): Promise<RawWebSocket> {
    const sock = net.connect(port, host);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    sock.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
    let head = Buffer.alloc(0);
    const rest = await new Promise<Buffer>((resolve) => {
      const onData = (d: Buffer): void => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.removeListener('data', onData);
        resolve(head.subarray(end + 4));
      };
      sock.on('data', onData);
      sock.on('close', () => resolve(Buffer.alloc(0)));
    });
    const ws = new RawWebSocket(sock, head.toString('latin1', 0, head.indexOf('\r\n\r\n')));
    sock.on('data', (d: Buffer) => ws.data(d));
    if (rest.length > 0) ws.data(rest);
    return ws;
  }

  write(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** Sends one NG message (`COOKIE SP BODY`) as a text frame. */
  send(message: string | Buffer): void {
    this.write(clientFrame(0x1, Buffer.from(message)));
  }

  async waitFrames(n: number, timeoutMs = 3000): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.frames.length} of ${n} WebSocket frames`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.frames;
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('WebSocket not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.sock.destroy();
  }

  private data(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      this.frames.push({ opcode: this.buf[0]! & 0x0f, payload: Buffer.from(this.buf.subarray(at, at + len)) });
      this.buf = this.buf.subarray(at + len);
    }
  }
}
