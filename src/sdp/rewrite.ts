import { attributeName, isIceAttribute, type SessionDescription } from './SessionDescription.js';

/** What the relay puts into one m= section of the SDP it passes on. */
export interface MediaRewrite {
  address: string;
  family: 4 | 6;
  rtpPort: number;
  /** null: the RTCP port line is left out (rtcp-mux answer keeps a=rtcp:RTP). */
  rtcpPort: number | null;
  rtcpMux: boolean;
  /** A different transport on the m= line (`transport protocol`), else the sender's stays. */
  protocol?: string;
}

export interface RewriteOptions {
  address: string;
  family: 4 | 6;
  replaceOrigin: boolean;
  removeIce: boolean;
  rtcpAttribute: 'short' | 'full' | 'none';
  /** One entry per m= line; null leaves a section alone (rejected, port 0). */
  medias: (MediaRewrite | null)[];
}

const ipv = (family: 4 | 6): string => (family === 6 ? 'IP6' : 'IP4');

/** Produces the SDP to send on, changing only addresses, ports, a=rtcp, ICE and, if asked, o=. */
export function rewriteSdp(sd: SessionDescription, opt: RewriteOptions): string {
  const out: string[] = [];
  for (const line of sd.sessionLines) {
    if (line.startsWith('c=')) {
      out.push(`c=IN ${ipv(opt.family)} ${opt.address}`);
    } else if (line.startsWith('o=') && opt.replaceOrigin) {
      const f = line.slice(2).split(' ');
      if (f.length >= 6) {
        f[4] = ipv(opt.family);
        f[5] = opt.address;
        out.push(`o=${f.join(' ')}`);
      } else out.push(line);
    } else if (opt.removeIce && isIceAttribute(line)) {
      continue;
    } else out.push(line);
  }
  sd.medias.forEach((m, i) => {
    const r = opt.medias[i];
    if (!r) {
      // Rejected (port 0): no ports of ours, but no peer address may leak either.
      for (const line of m.lines) {
        if (line.startsWith('c=')) out.push(`c=IN ${ipv(opt.family)} ${opt.address}`);
        else if (!(opt.removeIce && isIceAttribute(line))) out.push(line);
      }
      return;
    }
    out.push(m.lines[0]!.replace(/^(m=\S+ )\d+((?:\/\d+)? )(\S+)/, (_l, head: string, count: string, proto: string) => `${head}${r.rtpPort}${count}${r.protocol ?? proto}`));
    let rtcpDone = false;
    const rtcpLine = (): string | null => {
      if (r.rtcpPort === null || opt.rtcpAttribute === 'none') return null;
      return opt.rtcpAttribute === 'full' ? `a=rtcp:${r.rtcpPort} IN ${ipv(r.family)} ${r.address}` : `a=rtcp:${r.rtcpPort}`;
    };
    for (const line of m.lines.slice(1)) {
      if (line.startsWith('c=')) {
        out.push(`c=IN ${ipv(r.family)} ${r.address}`);
        continue;
      }
      const name = attributeName(line);
      if (name === 'rtcp') {
        const l = rtcpLine();
        if (l) out.push(l);
        rtcpDone = true;
      } else if (name === 'rtcp-mux') {
        if (r.rtcpMux) out.push(line);
      } else if (opt.removeIce && isIceAttribute(line)) {
        continue;
      } else out.push(line);
    }
    if (!rtcpDone) {
      const l = rtcpLine();
      if (l) out.push(l);
    }
    if (r.rtcpMux && !m.rtcpMux) out.push('a=rtcp-mux');
  });
  return out.join('\r\n') + '\r\n';
}
