import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';

/**
 * The server side of RFC 6455, as far as NG needs it: the opening handshake, messages in
 * (text or binary, fragmented or not, masked as clients must), binary messages out, ping,
 * close. Messages are bounded; a peer that breaks the protocol is closed with its status code.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL = 1002;
export const CLOSE_TOO_BIG = 1009;

/** The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** One frame's header for a server (unmasked) frame of `length` payload bytes. */
function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, length]);
  if (length < 0x10000) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

export class WebSocketConnection {
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private closing = false;

  constructor(
    private readonly socket: Duplex,
    /** Largest message taken (bytes, all fragments together). */
    private readonly maxMessage: number,
    private readonly onMessage: (data: Buffer) => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => socket.destroy());
  }

  get open(): boolean {
    return !this.closing && !this.socket.destroyed;
  }

  sendBinary(data: Buffer): void {
    if (!this.open) return;
    this.socket.write(frameHeader(0x2, data.length));
    this.socket.write(data);
  }

  close(code: number): void {
    if (this.closing) return;
    this.closing = true;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.socket.end(Buffer.concat([frameHeader(0x8, 2), body]));
  }

  private data(chunk: Buffer): void {
    if (this.closing) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const p = this.pending;
      if (p.length < 2) return;
      const fin = (p[0]! & 0x80) !== 0;
      const opcode = p[0]! & 0x0f;
      if ((p[0]! & 0x70) !== 0 || (p[1]! & 0x80) === 0) return this.close(CLOSE_PROTOCOL);
      let length = p[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (p.length < 4) return;
        length = p.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (p.length < 10) return;
        const big = p.readBigUInt64BE(2);
        if (big > BigInt(this.maxMessage)) return this.close(CLOSE_TOO_BIG);
        length = Number(big);
        at = 10;
      }
      const control = opcode >= 0x8;
      if (control && (length > 125 || !fin)) return this.close(CLOSE_PROTOCOL);
      if (!control && this.fragmentBytes + length > this.maxMessage) return this.close(CLOSE_TOO_BIG);
      if (p.length < at + 4 + length) {
        // Waiting for the rest of a frame already known to fit.
        return;
      }
      const mask = p.subarray(at, at + 4);
      const payload = Buffer.from(p.subarray(at + 4, at + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
      this.pending = p.subarray(at + 4 + length);
      if (!this.frame(fin, opcode, payload)) return;
    }
  }

  /** False once the connection is closing. */
  private frame(fin: boolean, opcode: number, payload: Buffer): boolean {
    switch (opcode) {
      case 0x8:
        this.close(CLOSE_NORMAL);
        return false;
      case 0x9:
        this.socket.write(Buffer.concat([frameHeader(0xa, payload.length), payload]));
        return true;
      case 0xa:
        return true;
      case 0x0:
        if (this.fragments.length === 0) {
          this.close(CLOSE_PROTOCOL);
          return false;
        }
        break;
      case 0x1:
      case 0x2:
        if (this.fragments.length > 0) {
          this.close(CLOSE_PROTOCOL);
          return false;
        }
        break;
      default:
        this.close(CLOSE_PROTOCOL);
        return false;
    }
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (!fin) return true;
    const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    this.fragments = [];
    this.fragmentBytes = 0;
    this.onMessage(message);
    return this.open;
  }
}
