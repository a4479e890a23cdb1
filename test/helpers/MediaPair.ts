import { RtpEndpoint, rtcpPacket, rtpPacket } from './RtpEndpoint.js';
import { localUdp, type UdpOpener } from './UdpPort.js';

/** A phone's media sockets: RTP on an even port and RTCP on the next one, as an SDP without a=rtcp implies. */
export class MediaPair {
  private seq = 0;

  private constructor(
    readonly rtp: RtpEndpoint,
    readonly rtcp: RtpEndpoint,
    readonly ssrc: number,
  ) {}

  /** Binds a free even/odd port pair above the relays' media ranges (tests use 20000-32000 for those). */
  static async open(address: string, ssrc: number, open: UdpOpener = localUdp): Promise<MediaPair> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 33000 + 2 * Math.floor(Math.random() * 13000);
      let rtp: RtpEndpoint | undefined;
      try {
        rtp = await RtpEndpoint.open(address, port, open);
        const rtcp = await RtpEndpoint.open(address, port + 1, open);
        return new MediaPair(rtp, rtcp, ssrc);
      } catch {
        rtp?.close();
      }
    }
    throw new Error(`no free RTP/RTCP port pair on ${address}`);
  }

  get address(): string {
    return this.rtp.address;
  }

  get port(): number {
    return this.rtp.port;
  }

  /** Sends `n` RTP packets and one RTCP report towards the relay's ports for this side. */
  send(n: number, to: { address: string; rtpPort: number; rtcpPort: number }): void {
    for (let i = 0; i < n; i++) this.rtp.send(rtpPacket(this.seq++, this.ssrc), to.rtpPort, to.address);
    this.rtcp.send(rtcpPacket(this.ssrc), to.rtcpPort, to.address);
  }

  close(): void {
    this.rtp.close();
    this.rtcp.close();
  }
}
