import type { ReportDict } from './ReportDict.js';
import type { ReportSink } from './ReportSink.js';
import type { Call } from './Call.js';
import type { Media } from './Media.js';
import type { Monologue } from './Monologue.js';
import type { Stream } from './Stream.js';

const familyName = (f: 4 | 6): string => (f === 6 ? 'IPv6' : 'IPv4');
const secs = (ms: number): number => Math.floor(ms / 1000);

function endpoint(sink: ReportSink, family: 4 | 6, address: string, port: number): void {
  sink.dict();
  sink.key('family');
  sink.str(familyName(family));
  sink.key('address');
  sink.str(address);
  sink.key('port');
  sink.num(port);
  sink.end();
}

function streamReport(sink: ReportSink, st: Stream, m: Media): void {
  const leg = st.leg;
  sink.dict();
  sink.key('local port');
  sink.num(st.localPort);
  sink.key('local address');
  sink.str(st.local.address);
  sink.key('family');
  sink.str(familyName(st.local.family));
  // rtpengine always sends both keys: empty dicts while the party's endpoint is unknown.
  const sdpPort = st.isRtcp ? m.sdpRtcpPort : m.sdpRtpPort;
  const advertised = (): void => {
    if (m.sdpAddress !== null) endpoint(sink, st.local.family, m.sdpAddress, sdpPort);
    else {
      sink.dict();
      sink.end();
    }
  };
  sink.key('endpoint');
  if (leg && leg.remotePort !== 0) endpoint(sink, st.local.family, leg.remoteAddress, leg.remotePort);
  else advertised();
  sink.key('advertised endpoint');
  advertised();
  sink.key('last packet');
  sink.num(secs(leg?.lastPacket ?? 0));
  sink.key('flags');
  sink.list();
  sink.str(st.isRtcp ? 'RTCP' : 'RTP');
  if (m.sdpAddress !== null) sink.str('filled');
  if (leg?.confirmed) sink.str('confirmed');
  if (leg?.policy.strictSource) sink.str('strict source address');
  if (leg?.policy.mediaHandover) sink.str('media handover');
  sink.end();
  if (leg && leg.ssrc !== 0) {
    sink.key('SSRC');
    sink.num(leg.ssrc);
  }
  sink.key('stats');
  counts(sink, leg?.packets ?? 0, leg?.bytes ?? 0, leg?.errors ?? 0);
  sink.end();
}

function counts(sink: ReportSink, packets: number, bytes: number, errors: number): void {
  sink.dict();
  sink.key('packets');
  sink.num(packets);
  sink.key('bytes');
  sink.num(bytes);
  sink.key('errors');
  sink.num(errors);
  sink.end();
}

function mediaReport(sink: ReportSink, m: Media): void {
  sink.dict();
  sink.key('index');
  sink.num(m.index);
  sink.key('type');
  sink.str(m.type);
  sink.key('protocol');
  sink.str(m.protocol);
  const codec = m.reportedCodec;
  if (codec) {
    sink.key('codec');
    sink.str(codec);
  }
  sink.key('streams');
  sink.list();
  for (const st of m.streams()) streamReport(sink, st, m);
  sink.end();
  sink.key('flags');
  sink.list();
  sink.str('initialized');
  if (m.direction === 'sendrecv' || m.direction === 'sendonly') sink.str('send');
  if (m.direction === 'sendrecv' || m.direction === 'recvonly') sink.str('recv');
  if (m.muxed) sink.str('rtcp-mux');
  if (m.rtp?.leg?.policy.asymmetric) sink.str('asymmetric');
  sink.end();
  sink.end();
}

function partyReport(sink: ReportSink, ml: Monologue): void {
  sink.dict();
  sink.key('tag');
  sink.str(ml.tag);
  if (ml.label) {
    sink.key('label');
    sink.str(ml.label);
  }
  if (ml.viaBranch) {
    sink.key('via-branch');
    sink.str(ml.viaBranch);
  }
  sink.key('created');
  sink.num(secs(ml.created));
  for (const [k, pubsub] of [['subscriptions', ml.subscriptions], ['subscribers', ml.subscribers]] as const) {
    sink.key(k);
    sink.list();
    // The dialogue's partner first, then pub/sub parties, as rtpengine lists them.
    const entries: [Monologue, string][] = ml.peer ? [[ml.peer, 'offer/answer']] : [];
    for (const x of pubsub) entries.push([x, 'pub/sub']);
    for (const [other, type] of entries) {
      sink.dict();
      sink.key('tag');
      sink.str(other.tag);
      sink.key('type');
      sink.str(type);
      sink.end();
    }
    sink.end();
  }
  sink.key('medias');
  sink.list();
  for (const m of ml.medias) mediaReport(sink, m);
  sink.end();
  sink.end();
}

/**
 * The `query` / `delete` reply body, in rtpengine 10.5's structure. The parties (the bulk of
 * it) are written into `sink`, which the NG layer picks for the reply's encoding.
 */
export function callReport(call: Call, onlyTags: string[] | undefined, sink: ReportSink): ReportDict {
  const totals = { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } };
  let untagged = 0;
  sink.dict();
  for (const ml of call.parties()) {
    // The callee before its answer has no tag yet; rtpengine names it like this.
    if (!onlyTags || onlyTags.includes(ml.tag)) {
      sink.key(ml.tag || `<untagged ${++untagged}>`);
      partyReport(sink, ml);
    }
    for (const m of ml.medias) {
      for (const st of m.streams()) {
        const t = st.isRtcp ? totals.RTCP : totals.RTP;
        t.packets += st.leg?.packets ?? 0;
        t.bytes += st.leg?.bytes ?? 0;
        t.errors += st.leg?.errors ?? 0;
      }
    }
  }
  sink.end();
  return {
    created: secs(call.created),
    created_us: (call.created % 1000) * 1000,
    'last signal': secs(call.lastSignal),
    SSRC: {},
    tags: sink.done(),
    totals,
  };
}
