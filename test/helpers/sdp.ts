/** A plain audio SDP for an endpoint at address:port. */
export function audioSdp(address: string, port: number, opts: { direction?: string; extra?: string[]; origin?: string; family?: 4 | 6 } = {}): string {
  const ip = opts.family === 6 || address.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=${opts.origin ?? 'test'} 1234 1 IN ${ip} ${address}`,
    's=test',
    `c=IN ${ip} ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    ...(opts.extra ?? []),
    `a=${opts.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');
}

export interface SdpMedia {
  type: string;
  port: number;
  address?: string;
  rtcpPort?: number;
  rtcpMux: boolean;
  direction?: string;
}

/** The fields tests look at in the relay's SDP. */
export function readSdp(sdp: string): { address?: string; origin?: string; medias: SdpMedia[]; lines: string[] } {
  const lines = sdp.split('\r\n');
  const medias: SdpMedia[] = [];
  let address: string | undefined;
  let origin: string | undefined;
  for (const l of lines) {
    const m = /^m=(\S+) (\d+)/.exec(l);
    if (m) {
      medias.push({ type: m[1]!, port: Number(m[2]), rtcpMux: false });
      continue;
    }
    const cur = medias[medias.length - 1];
    if (l.startsWith('o=')) origin = l.split(' ')[5];
    const c = /^c=IN IP[46] (\S+)/.exec(l);
    if (c) {
      if (cur) cur.address = c[1];
      else address = c[1];
    }
    const r = /^a=rtcp:(\d+)/.exec(l);
    if (r && cur) cur.rtcpPort = Number(r[1]);
    if (l === 'a=rtcp-mux' && cur) cur.rtcpMux = true;
    if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l) && cur) cur.direction = l.slice(2);
  }
  for (const m of medias) m.address ??= address;
  return { address, origin, medias, lines };
}
