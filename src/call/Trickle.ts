import type { Services } from '../Services.js';
import { parseSdp } from '../sdp/SessionDescription.js';
import { mid, parseCandidates, parseIce } from '../sdp/webrtc.js';
import { applyCrypto } from './MediaSetup.js';
import type { OfferAnswerOptions } from './OfferAnswerOptions.js';

/** Candidates kept per media: trickled ones count with the SDP's. */
const MAX_CANDIDATES = 100;

/**
 * A trickle ICE SDP fragment (RFC 8840; NG `offer` with the `fragment` flag, as rtpengine 10.5
 * takes it): the sender's new candidates for its media, matched by `a=mid` (else by position),
 * go to the ICE agents of those media; nothing else of the call changes. Fragments of an older
 * ICE generation (other credentials) are ignored, and so are fragments for a call or media that
 * has no ICE yet (rtpengine keeps those until its agent exists).
 */
export async function trickle(s: Services, opts: OfferAnswerOptions): Promise<void> {
  const call = s.registry.get(opts.callId);
  if (!call || call.destroyed) return;
  // A fragment has no session part of its own (and no address: its candidates are what counts).
  const sd = parseSdp(/^v=/.test(opts.sdp) ? opts.sdp : `v=0\r\nc=IN IP4 0.0.0.0\r\n${opts.sdp}`);
  await call.serialize(async () => {
    const ml = call.monologues.get(opts.fromTag);
    if (!ml || call.destroyed) return;
    let changed = false;
    sd.medias.forEach((md, i) => {
      const id = mid(md);
      const m = (id !== undefined ? ml.medias.find((x) => x.webrtc.mid === id) : undefined) ?? ml.medias[i];
      const w = m?.webrtc;
      if (!w?.ice || !w.icePeer) return;
      const creds = parseIce(sd, md);
      if (creds && (creds.ufrag !== w.icePeer.ufrag || creds.pwd !== w.icePeer.pwd)) return;
      for (const c of parseCandidates(md)) {
        if (w.iceCandidates.length >= MAX_CANDIDATES) break;
        if (w.iceCandidates.some((k) => k.component === c.component && k.address === c.address && k.port === c.port)) continue;
        w.iceCandidates = [...w.iceCandidates, c];
        changed = true;
      }
    });
    if (changed) applyCrypto(ml);
  });
}
