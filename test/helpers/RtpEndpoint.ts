import { localUdp, type UdpOpener, type UdpPort } from './UdpPort.js';

export interface ReceivedPacket {
  data: Buffer;
  address: string;
  port: number;
  at: number;
}

/** An RTP header (12 bytes) + payload; the payload carries a send timestamp for latency. */
export function rtpPacket(seq: number, ssrc: number, pt = 0, payloadLen = 160): Buffer {
  const b = Buffer.alloc(12 + payloadLen);
  b[0] = 0x80;
  b[1] = pt & 0x7f;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** A minimal RTCP receiver report (payload type 201). */
export function rtcpPacket(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}

/** A UDP endpoint (phone) that sends to the relay and records what it receives. */
export class RtpEndpoint {
  readonly received: ReceivedPacket[] = [];
  private constructor(readonly socket: UdpPort) {
    socket.onMessage((data, from) => this.received.push({ data, address: from.address, port: from.port, at: Date.now() }));
  }

  /** `open`: where the socket lives (this process by default, or a network namespace). */
  static async open(address = '127.0.0.1', port = 0, open: UdpOpener = localUdp): Promise<RtpEndpoint> {
    return new RtpEndpoint(await open(address, port));
  }

  get address(): string {
    return this.socket.address;
  }

  get port(): number {
    return this.socket.port;
  }

  send(data: Buffer, port: number, address: string): void {
    this.socket.send(data, port, address);
  }

  /** Resolves once `n` packets have arrived in total (or rejects after the timeout). */
  async waitFor(n: number, timeoutMs = 3000): Promise<ReceivedPacket[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`endpoint ${this.address}:${this.port} got ${this.received.length} of ${n} packets`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.received;
  }

  close(): void {
    this.socket.close();
  }
}
