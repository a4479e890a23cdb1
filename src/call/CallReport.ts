import { emptyDict, type ReportDict as NgDict, type ReportValue as NgValue } from './ReportDict.js';
import type { Call } from './Call.js';
import type { Media } from './Media.js';
import type { Monologue } from './Monologue.js';
import type { Stream } from './Stream.js';

const familyName = (f: 4 | 6): string => (f === 6 ? 'IPv6' : 'IPv4');
const secs = (ms: number): number => Math.floor(ms / 1000);

function endpoint(family: 4 | 6, address: string, port: number): NgDict {
  return { family: familyName(family), address, port };
}

function streamReport(st: Stream, m: Media): NgDict {
  const leg = st.leg;
  const flags: string[] = [st.isRtcp ? 'RTCP' : 'RTP'];
  if (m.sdpAddress !== null) flags.push('filled');
  if (leg?.confirmed) flags.push('confirmed');
  if (leg?.policy.strictSource) flags.push('strict source address');
  if (leg?.policy.mediaHandover) flags.push('media handover');
  const sdpPort = st.isRtcp ? m.sdpRtcpPort : m.sdpRtpPort;
  const r: NgDict = {
    'local port': st.localPort,
    'local address': st.local.address,
    family: familyName(st.local.family),
  };
  // rtpengine always sends both keys: empty dicts while the party's endpoint is unknown.
  const advertised = m.sdpAddress !== null ? endpoint(st.local.family, m.sdpAddress, sdpPort) : {};
  r['endpoint'] = leg && leg.remotePort !== 0 ? endpoint(st.local.family, leg.remoteAddress, leg.remotePort) : advertised;
  r['advertised endpoint'] = advertised;
  r['last packet'] = secs(leg?.lastPacket ?? 0);
  r['flags'] = flags;
  if (leg && leg.ssrc !== 0) r['SSRC'] = leg.ssrc;
  r['stats'] = { packets: leg?.packets ?? 0, bytes: leg?.bytes ?? 0, errors: leg?.errors ?? 0 };
  return r;
}

function mediaReport(m: Media): NgDict {
  const flags = ['initialized'];
  if (m.direction === 'sendrecv' || m.direction === 'sendonly') flags.push('send');
  if (m.direction === 'sendrecv' || m.direction === 'recvonly') flags.push('recv');
  if (m.muxed) flags.push('rtcp-mux');
  if (m.rtp?.leg?.policy.asymmetric) flags.push('asymmetric');
  const r: NgDict = { index: m.index, type: m.type, protocol: m.protocol };
  const codec = m.reportedCodec;
  if (codec) r['codec'] = codec;
  r['streams'] = m.streams().map((st) => streamReport(st, m));
  r['flags'] = flags;
  return r;
}

function partyReport(ml: Monologue): NgDict {
  const r: NgDict = { tag: ml.tag };
  if (ml.label) r['label'] = ml.label;
  if (ml.viaBranch) r['via-branch'] = ml.viaBranch;
  r['created'] = secs(ml.created);
  const peers: NgValue[] = ml.peer ? [{ tag: ml.peer.tag, type: 'offer/answer' }] : [];
  r['subscriptions'] = peers;
  r['subscribers'] = peers;
  r['medias'] = ml.medias.map(mediaReport);
  return r;
}

/** The `query` / `delete` reply body, in rtpengine 10.5's structure. */
export function callReport(call: Call, onlyTags?: string[]): NgDict {
  const tags = emptyDict();
  const totals = { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } };
  let untagged = 0;
  for (const ml of call.parties()) {
    // The callee before its answer has no tag yet; rtpengine names it like this.
    if (!onlyTags || onlyTags.includes(ml.tag)) tags[ml.tag || `<untagged ${++untagged}>`] = partyReport(ml);
    for (const st of ml.medias.flatMap((m) => m.streams())) {
      const t = st.isRtcp ? totals.RTCP : totals.RTP;
      t.packets += st.leg?.packets ?? 0;
      t.bytes += st.leg?.bytes ?? 0;
      t.errors += st.leg?.errors ?? 0;
    }
  }
  return {
    created: secs(call.created),
    created_us: (call.created % 1000) * 1000,
    'last signal': secs(call.lastSignal),
    SSRC: {},
    tags,
    totals,
  };
}
