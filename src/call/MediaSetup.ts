import type { LocalAddress } from '../media/LocalInterface.js';
import { RelayLeg, type LegObserver, type PacketTap } from '../media/RelayLeg.js';
import type { LegSettings } from './LegSettings.js';
import type { Media } from './Media.js';
import type { Monologue } from './Monologue.js';
import { Stream } from './Stream.js';

/** Gives a media its RTP/RTCP port pair on `local`, unless it already has one (a re-offer keeps ports). */
export async function allocateStreams(media: Media, local: LocalAddress): Promise<void> {
  if (media.rtp || media.rejected) return;
  const [rtpSock, rtcpSock] = await local.pool.allocatePair();
  const rtp = new Stream(1, local, rtpSock.address().port);
  rtp.leg = new RelayLeg(rtpSock, local.address, rtp.localPort, local.family);
  const rtcp = new Stream(2, local, rtcpSock.address().port);
  rtcp.leg = new RelayLeg(rtcpSock, local.address, rtcp.localPort, local.family, true);
  media.rtp = rtp;
  media.rtcp = rtcp;
}

/** Where RTCP meant for a party leaves from: its RTP leg when it muxes. */
function rtcpOut(m: Media): RelayLeg | null {
  return (m.muxed ? m.rtp?.leg : m.rtcp?.leg) ?? null;
}

function linkOneWay(from: Media, to: Media): void {
  const rtp = from.rtp?.leg;
  const rtcp = from.rtcp?.leg;
  if (rtp) {
    rtp.forward = to.rtp?.leg ?? null;
    rtp.rtcpForward = from.muxed ? rtcpOut(to) : null;
  }
  if (rtcp) rtcp.forward = rtcpOut(to);
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
}

/** Applies the call's learning flags and observers to every leg of a party. */
export function configureLegs(ml: Monologue, settings: LegSettings, observer: LegObserver | null, tap: PacketTap | null): void {
  for (const m of ml.medias) {
    for (const s of m.streams()) {
      const leg = s.leg;
      if (!leg) continue;
      leg.learning = settings.learning;
      leg.strictSource = settings.strictSource;
      leg.mediaHandover = settings.mediaHandover;
      leg.asymmetric = settings.asymmetric;
      leg.observer = observer;
      leg.tap = tap;
    }
  }
}

/** Hands the party's SDP endpoint to its legs (re-learning when it changed). */
export function setPartyEndpoints(m: Media, now: number): void {
  if (m.sdpAddress === null) return;
  m.rtp?.leg?.setSdpEndpoint(m.sdpAddress, m.sdpRtpPort, now);
  if (m.rtcp?.leg && !m.muxed) m.rtcp.leg.setSdpEndpoint(m.sdpAddress, m.sdpRtcpPort, now);
}
