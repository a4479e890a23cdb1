import { CallGoneError } from './errors.js';
import { isNullAddress } from '../sdp/rewrite.js';
import type { LocalAddress } from '../media/LocalInterface.js';
import type { FanOutTarget, LegObserver, MediaLeg, MediaPlane, PacketTap } from '../media/MediaPlane.js';
import type { PayloadFormat } from '../media/engine/TranscodeSettings.js';
import type { Call } from './Call.js';
import type { LegSettings } from './LegSettings.js';
import { legControl } from './PartyControl.js';
import { keying } from './SdesNegotiation.js';
import type { Media } from './Media.js';
import type { Monologue } from './Monologue.js';
import { Stream } from './Stream.js';
import { dtmfLogDestination, type DtmfReporting } from '../media/DtmfReport.js';
import { rtpengineTagOrder } from './TagOrder.js';
import { isTelephoneEvent } from '../media/engine/CodecCatalog.js';

/** A bound RTP/RTCP port pair on `local`, as streams not yet given to any media. */
export async function allocatePair(plane: MediaPlane, callId: string, local: LocalAddress): Promise<Stream[]> {
  const [rtpLeg, rtcpLeg] = await plane.allocatePair(local, callId);
  const rtp = new Stream(1, local, rtpLeg.localPort);
  rtp.leg = rtpLeg;
  const rtcp = new Stream(2, local, rtcpLeg.localPort);
  rtcp.leg = rtcpLeg;
  return [rtp, rtcp];
}

/**
 * A port pair on each local address given (none for null), all or nothing: when one fails, or
 * the call ended meanwhile, what was bound is released and the error thrown.
 */
export async function allocatePairs(plane: MediaPlane, call: { callId: string; destroyed: boolean }, locals: readonly (LocalAddress | null)[]): Promise<(Stream[] | undefined)[]> {
  const outcomes = await Promise.allSettled(locals.map((l) => (l ? allocatePair(plane, call.callId, l) : Promise.resolve(undefined))));
  const pairs = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed || call.destroyed) {
    for (const pair of pairs) for (const st of pair ?? []) st.close();
    if (failed) throw failed.reason;
    throw new CallGoneError();
  }
  return pairs;
}

/** Where RTCP meant for a party leaves from: its RTP leg when it muxes. */
function rtcpOut(m: Media): MediaLeg | null {
  return (m.muxed ? m.rtp?.leg : m.rtcp?.leg) ?? null;
}

function linkOneWay(from: Media, peer: Media): void {
  // A bundled member's packets arrive on its owner's port: the owner's demultiplexer routes them.
  if (from.transportOwner) return;
  const rtp = from.rtp?.leg;
  const rtcp = from.rtcp?.leg;
  // `media echo`: back through the party's own legs, or dropped.
  const to = from.echo === 'echo' ? from : from.echo === 'blackhole' ? null : peer;
  rtp?.forwardTo(to?.rtp?.leg ?? null, from.muxed && to ? rtcpOut(to) : null);
  rtcp?.forwardTo(to ? rtcpOut(to) : null, null);
}

/** Points each leg of a party at the matching leg of its peer, both ways, media by media. */
export function linkParties(a: Monologue, b: Monologue): void {
  a.peer = b;
  b.peer = a;
  const n = Math.min(a.medias.length, b.medias.length);
  for (let i = 0; i < n; i++) {
    linkOneWay(a.medias[i]!, b.medias[i]!);
    linkOneWay(b.medias[i]!, a.medias[i]!);
  }
  linkBundles(a, b);
  linkBundles(b, a);
}

/** Gives each port a party's m= lines share the routes to their peer medias' legs; other ports demultiplex nothing. */
function linkBundles(ml: Monologue, peer: Monologue): void {
  const peerOf = (m: Media): Media | undefined => peer.medias[ml.medias.indexOf(m)];
  for (const m of ml.medias) {
    if (m.transportOwner) continue;
    const group = ml.bundles.find((g) => g.owner === m);
    m.rtp?.leg?.demuxTo(group ? group.targets(peerOf, rtcpOut) : null);
  }
}

/**
 * Points every media of the call's parties at the subscribers' legs that copy it (pub/sub):
 * a subscriber gets media once its answer gave an endpoint. Cheap when nothing changed.
 */
export function linkSubscriptions(call: { parties(): Monologue[] }): void {
  const targets = new Map<Media, FanOutTarget[]>();
  const rtcpTargets = new Map<Media, FanOutTarget[]>();
  for (const sub of call.parties()) {
    for (const m of sub.medias) {
      const s = m.subscription;
      const rtp = m.rtp?.leg;
      if (!s || !rtp || m.sdpAddress === null || m.rejected) continue;
      const list = targets.get(s.media) ?? [];
      list.push({ rtp, rtcp: s.media.muxed ? rtcpOut(m) : null, transcoding: s.transcoding });
      targets.set(s.media, list);
      const rtcp = rtcpOut(m);
      if (rtcp && !s.transcoding) rtcpTargets.set(s.media, [...(rtcpTargets.get(s.media) ?? []), { rtp: rtcp, rtcp: null, transcoding: null }]);
    }
  }
  for (const ml of call.parties()) {
    for (const m of ml.medias) {
      if (m.transportOwner) continue;
      m.rtp?.leg?.fanOutTo(targets.get(m) ?? []);
      m.rtcp?.leg?.fanOutTo(rtcpTargets.get(m) ?? []);
    }
  }
}

/** Applies the call's learning flags and observers to every leg of a party. */
export function configureLegs(ml: Monologue, settings: LegSettings, observer: LegObserver | null, tap: PacketTap | null): void {
  for (const m of ml.medias) {
    for (const s of m.streams()) {
      const leg = s.leg;
      if (!leg) continue;
      leg.setPolicy(settings);
      leg.setObserver(observer);
      leg.setTap(tap);
    }
  }
}

/**
 * Gives every leg of a party the SRTP keys negotiated for it (the same keys again change
 * nothing). `restored`: the legs continue a call from a record, where a DTLS client waits for
 * its peer instead of starting a handshake the peer may not expect.
 */
export function applyCrypto(ml: Monologue, restored = false): void {
  for (const m of ml.medias) {
    const w = m.webrtc;
    const dtls = w.dtls && restored ? { ...w.dtls, hold: true } : w.dtls;
    // Keys passed through: what the relay makes for the party takes the key the party was given.
    const made = !m.crypto?.send && m.ourSdes.length === 1 ? keying(m.ourSdes[0]!) : null;
    if (m.crypto === null && made === null && !w.dtls && !w.ice) {
      for (const s of m.streams()) s.leg?.setCrypto(null);
      continue;
    }
    // A party that names its RTP port for RTCP too has one DTLS association there: a second
    // client handshake from our RTCP port would restart its server mid-handshake. Our RTCP
    // port then only answers a handshake, never starts one.
    const shared = dtls?.role === 'client' && !m.muxed && m.sdpRtcpPort === m.sdpRtpPort;
    for (const s of m.streams()) {
      const component = s === m.rtcp ? 2 : 1;
      // A muxed party sends RTCP on the RTP port: the RTCP port has nothing to check.
      const candidates = component === 2 && m.muxed ? [] : w.iceCandidates.filter((c) => c.component === component);
      const ice = w.ice ? { ...w.ice, component, candidates: candidates.map(({ foundation, priority, address, port }) => ({ foundation, priority, address, port })) } as const : null;
      const legDtls = component === 2 && shared && dtls ? { ...dtls, role: 'server' as const } : dtls;
      s.leg?.setCrypto({ recv: m.crypto?.recv ?? null, send: m.crypto?.send ?? null, made, dtls: legDtls, ice });
    }
  }
}

/**
 * Gives every RTP leg of a party the pipeline for what it sends (null: relayed as it is), and
 * its RTCP port the streams to rewrite its RTCP for when either direction is converted.
 */
export function applyTranscoding(ml: Monologue): void {
  ml.medias.forEach((m, i) => {
    if (m.transportOwner) return;
    m.rtp?.leg?.setTranscoding(m.rejected ? null : m.transcoding);
    const converted = !m.rejected && (m.transcoding !== null || (ml.peer?.medias[i]?.transcoding ?? null) !== null);
    m.rtcp?.leg?.translateRtcpOf(converted ? (m.rtp?.leg ?? null) : null);
  });
}

/** The payload formats a party sends with, from its SDP (`formats` and their `codecs` names). */
function sentFormats(m: Media): PayloadFormat[] {
  const out: PayloadFormat[] = [];
  for (let i = 0; i < m.formats.length; i++) {
    const pt = Number(m.formats[i]);
    const [encoding = '', clock = '', channels = ''] = (m.codecs[i] ?? '').split('/');
    if (!Number.isInteger(pt) || pt < 0 || pt > 127 || !clock) continue;
    out.push({ pt, encoding, clock: Number(clock) || 0, channels: Number(channels) || 1 });
  }
  return out;
}

/** Gives every RTP leg of a party what blocking and silencing the call and the party ask for. */
export function applyMediaControl(call: Call, ml: Monologue): void {
  for (const m of ml.medias) if (!m.transportOwner) m.rtp?.leg?.setMediaControl(m.rejected ? null : legControl(call.control, ml.control, sentFormats(m)));
}

/**
 * With `dtmf-log-dest`, every RTP leg of a party reports the digits the party sends (its
 * telephone-event formats, and what converted audio carries), for the call's tags as they are now.
 */
export function applyDtmfReporting(call: Call, ml: Monologue): void {
  const reporting = dtmfReportingOf(call, ml);
  if (reporting === null) return;
  for (const m of ml.medias) {
    if (m.transportOwner) continue;
    const events = sentFormats(m).filter(isTelephoneEvent).map((f) => ({ pt: f.pt, clock: f.clock }));
    m.rtp?.leg?.setDtmfReporting(m.rejected ? null : { ...reporting, events });
  }
}

/** Who the digits `ml` sends are reported for (no events yet), or null when reports are off. */
export function dtmfReportingOf(call: Call, ml: Monologue): DtmfReporting | null {
  if (dtmfLogDestination() === null) return null;
  return { callId: call.callId, sourceTag: ml.tag, tags: rtpengineTagOrder(call.parties().map((p) => p.tag).filter((t) => t !== '')), events: [] };
}

/** Hands the party's SDP endpoint to its legs (re-learning when it changed). */
export function setPartyEndpoints(m: Media, now: number): void {
  if (m.sdpAddress === null || m.transportOwner) return;
  // A party on hold (0.0.0.0 or ::) gets nothing until it sends or is resumed: port 0 is no
  // destination (sending to 0.0.0.0 would reach the relay's own host).
  const held = isNullAddress(m.sdpAddress);
  m.rtp?.leg?.setSdpEndpoint(m.sdpAddress, held ? 0 : m.sdpRtpPort, now);
  if (m.rtcp?.leg && !m.muxed) m.rtcp.leg.setSdpEndpoint(m.sdpAddress, held ? 0 : m.sdpRtcpPort, now);
}
