import type { Call } from '../call/Call.js';
import { Media } from '../call/Media.js';
import { partyControlOf } from '../call/PartyControl.js';
import { applyCrypto, applyDtmfReporting, applyMediaControl, applyTranscoding, configureLegs, linkParties, linkSubscriptions } from '../call/MediaSetup.js';
import { filePlayRecordOf, resumePlaybacks } from '../call/Playback.js';
import { transcodeSettingsOf } from '../media/engine/TranscodeSettings.js';
import { RELAY_CODECS } from '../call/CodecNegotiation.js';
import { codecStoreOf } from '../sdp/CodecStore.js';
import { keying } from '../call/SdesNegotiation.js';
import type { SdesCrypto } from '../sdp/crypto.js';
import { isFingerprintHash } from '../media/transforms/DtlsFingerprint.js';
import { Monologue } from '../call/Monologue.js';
import { groupsOf, type BundleGroup } from '../call/BundleGroup.js';
import { MID_TOKEN } from '../sdp/bundle.js';
import { Stream } from '../call/Stream.js';
import { moduleLogger } from '../log.js';
import type { LocalAddress } from '../media/LocalInterface.js';
import type { Services } from '../Services.js';
import { icePairOf, isUint, keyOfRecord, srtpStateOf, type CallRecord, type MediaRecord, type PartyRecord, type StreamRecord } from './CallRecord.js';
import { originOf, restoreSdpKept, restoreSent, restoreSubscriptions } from './SubscriptionRecord.js';

const log = moduleLogger('restore');

/** Binds a stream's claimed port; a failure is logged with call, port and interface and retried later. */
export async function bindStream(s: Services, call: Call, st: Stream): Promise<boolean> {
  if (st.leg || st.binding || !st.reserved || call.destroyed) return st.leg !== null;
  st.binding = true;
  try {
    const leg = await s.media.bindReserved(st.local, st.localPort, st.isRtcp, call.callId);
    if (call.destroyed || !st.reserved) {
      leg.close();
      return false;
    }
    st.leg = leg;
    if (st.bindError) log.info({ callId: call.callId, port: st.localPort, interface: st.local.name }, 'port bound after earlier failure');
    st.bindError = null;
    return true;
  } catch (e) {
    const msg = (e as Error).message;
    if (st.bindError !== msg) {
      log.warn(
        { callId: call.callId, port: st.localPort, interface: st.local.name, address: st.local.address, err: msg },
        'cannot bind port of restored call; retrying every second',
      );
    }
    st.bindError = msg;
    return false;
  } finally {
    st.binding = false;
  }
}

/**
 * ICE: the ports a record's stream has on other addresses of its interface, claimed in their
 * pools (bound with the stream's leg). A stream whose alternates changed gives up its old ones.
 */
function claimAlternates(s: Services, call: Call, st: Stream, r: StreamRecord): void {
  const list = Array.isArray(r.alternates) ? r.alternates.slice(0, 8) : [];
  const same = list.length === st.alternates.length && list.every((a, i) => a.address === st.alternates[i]!.local.address && a.port === st.alternates[i]!.port);
  if (same) return;
  st.dropAlternates();
  for (const a of list) {
    const local = typeof a?.address === 'string' && isUint(a.port, 65535) ? s.interfaces.find(st.local.name, a.address) : undefined;
    if (!local || !local.pool.reserve(a.port)) {
      log.warn({ callId: call.callId, port: a?.port, address: a?.address }, 'ICE address of a restored stream is not available; its candidate is lost');
      break;
    }
    st.alternates.push({ local, port: a.port });
  }
}

/** Binds the stream's claimed ICE alternates its leg does not have yet; one that fails drops them all. */
async function bindAlternates(s: Services, call: Call, st: Stream): Promise<void> {
  while (st.leg && !call.destroyed && st.leg.alternates.length < st.alternates.length) {
    const a = st.alternates[st.leg.alternates.length]!;
    try {
      await s.media.bindAlternate(st.leg, a.local, a.port);
    } catch (e) {
      log.warn({ callId: call.callId, port: a.port, address: a.local.address, err: (e as Error).message }, 'cannot bind ICE address of restored call; its candidates are lost');
      st.dropAlternates();
      return;
    }
  }
}

/** The local address a record's stream lives on here: the same address, else another of that interface name. */
function localFor(s: Services, r: StreamRecord): LocalAddress | undefined {
  return s.interfaces.find(r.interface, r.address) ?? s.interfaces.pick(r.interface, r.family);
}

function makeStream(s: Services, call: Call, r: StreamRecord): Stream | null {
  const local = localFor(s, r);
  if (!local) {
    log.warn({ callId: call.callId, interface: r.interface, port: r.port }, 'record names an interface this relay does not have');
    return null;
  }
  const st = new Stream(r.component, local, r.port);
  if (!local.pool.reserve(r.port)) {
    st.reserved = false;
    st.bindError = `port ${r.port} on ${local.address} is held by another call`;
    log.warn({ callId: call.callId, port: r.port, interface: local.name }, st.bindError);
  }
  return st;
}

/** Keeps a stream whose port is unchanged; replaces it otherwise. */
function syncStream(s: Services, call: Call, old: Stream | null, r: StreamRecord | undefined): Stream | null {
  if (!r) {
    old?.close();
    return null;
  }
  const st = old && old.localPort === r.port && old.local === localFor(s, r) ? old : (old?.close(), makeStream(s, call, r));
  if (st) claimAlternates(s, call, st, r);
  return st;
}

// Bounded record values: ICE credentials, a fingerprint's hash name and value.
const ICE_TEXT = /^[A-Za-z0-9+/]{1,256}$/;
const HASH_NAME = /^[a-z0-9-]{1,16}$/;
const FINGERPRINT = /^[0-9A-Fa-f:]{1,200}$/;

function keyOf(k: unknown): SdesCrypto | null {
  const key = keyOfRecord(k);
  const tag = (k as Record<string, unknown> | null)?.['tag'];
  return key && { tag: typeof tag === 'number' ? tag : 0, ...key };
}

/** The DTLS role and peer fingerprint from a record; null when absent or malformed. */
function dtlsOf(d: MediaRecord['dtls']): Media['webrtc']['dtls'] {
  if (typeof d !== 'object' || d === null || (d.role !== 'client' && d.role !== 'server')) return null;
  const f = d.fingerprint;
  if (f === null) return { role: d.role, fingerprint: null };
  if (typeof f !== 'object' || typeof f.hash !== 'string' || typeof f.value !== 'string' || !HASH_NAME.test(f.hash) || !FINGERPRINT.test(f.value)) return null;
  return { role: d.role, fingerprint: { hash: f.hash, value: f.value } };
}

const keysOf = (list: unknown): SdesCrypto[] => (Array.isArray(list) ? list.slice(0, 16).map(keyOf).filter((k): k is SdesCrypto => k !== null) : []);

function credentials(c: unknown): { ufrag: string; pwd: string } | null {
  if (typeof c !== 'object' || c === null) return null;
  const { ufrag, pwd } = c as Record<string, unknown>;
  return typeof ufrag === 'string' && typeof pwd === 'string' && ICE_TEXT.test(ufrag) && ICE_TEXT.test(pwd) ? { ufrag, pwd } : null;
}

/** SDES keys, the DTLS role and peer fingerprint, and ICE credentials from the record (a DTLS handshake's keys are the streams'). */
function restoreSecurity(m: Media, r: MediaRecord): void {
  const srtp = r.srtp;
  m.sdes = keysOf(srtp?.sdes);
  m.ourSdes = keysOf(srtp?.ourSdes);
  const recv = keyOf(srtp?.recv);
  const send = keyOf(srtp?.send);
  m.crypto = recv || send ? { recv: recv ? keying(recv) : null, send: send ? keying(send) : null } : null;
  m.osrtp = srtp?.osrtp === true;
  m.protocolOverride = srtp?.override === true;
  m.sdesOff = typeof srtp?.sdesOff === 'boolean' ? srtp.sdesOff : null;
  const hash = srtp?.fpHash;
  m.webrtc.fpHash = typeof hash === 'string' && isFingerprintHash(hash) ? hash : null;
  const ice = r.ice;
  const w = m.webrtc;
  w.ourIce = credentials(ice);
  w.icePeer = w.ourIce ? credentials(ice?.peer) : null;
  w.iceControlling = w.ourIce && typeof ice?.controlling === 'boolean' ? ice.controlling : null;
  w.iceLiteSelf = ice?.lite === true;
  // A party that speaks ICE with the relay keeps getting it in later offers, as before the restart.
  w.iceWanted = w.ourIce !== null && w.icePeer !== null ? true : null;
  // The party's candidates are not kept: its checks (consent, RFC 7675) name its endpoint again.
  w.ice = w.ourIce ? { ufrag: w.ourIce.ufrag, pwd: w.ourIce.pwd, remote: w.icePeer, controlling: w.iceControlling ?? false, lite: w.iceLiteSelf } : null;
  m.webrtc.dtls = dtlsOf(r.dtls);
}

function syncMedia(s: Services, call: Call, m: Media, r: MediaRecord): void {
  m.type = r.type;
  m.protocol = r.protocol;
  m.formats = r.formats ?? [];
  m.codecs = r.codecs ?? [];
  m.direction = r.direction ?? 'sendrecv';
  m.rtcpMux = !!r.rtcpMux;
  m.muxed = !!r.muxed;
  m.muxInAnswer = typeof r.muxInAnswer === 'boolean' ? r.muxInAnswer : null;
  m.rejected = !!r.rejected;
  m.sdpAddress = r.sdp?.address ?? null;
  m.sdpRtpPort = r.sdp?.rtp ?? 0;
  m.sdpRtcpPort = r.sdp?.rtcp ?? 0;
  restoreSecurity(m, r);
  m.transcoding = transcodeSettingsOf(r.transcode);
  m.codecStore = codecStoreOf(r.codecList, RELAY_CODECS);
  m.sdpPtime = isUint(r.sdpPtime, 1000) && r.sdpPtime > 0 ? r.sdpPtime : undefined;
  m.ptimeOverride = r.ptimeOverride === true;
  m.echo = r.echo === 'echo' || r.echo === 'blackhole' ? r.echo : null;
  restoreSent(m, r);
  const play = filePlayRecordOf(r.play);
  // A playback this relay runs already goes on; one it does not know is continued from the record.
  if (!play || play.startedAt !== m.playback?.settings.startedAt) m.resumePlay = play;
  m.webrtc.mid = typeof r.mid === 'string' && MID_TOKEN.test(r.mid) ? r.mid : undefined;
  m.midExtension = isUint(r.midExtension, 255) ? r.midExtension : 0;
  // A bundled member's streams are its owner's: the party's groups point it at them again.
  if (m.transportOwner) {
    m.transportOwner = null;
    m.rtp = null;
    m.rtcp = null;
  }
  m.rtp = syncStream(s, call, m.rtp, r.streams.find((x) => x.component === 1));
  m.rtcp = syncStream(s, call, m.rtcp, r.streams.find((x) => x.component === 2));
}

function syncParty(s: Services, call: Call, r: PartyRecord): Monologue {
  let ml = r.pending ? call.pending : call.findByTag(r.tag);
  if (!ml && !r.pending && call.pending && call.pending.tag === '') ml = call.namePending(r.tag);
  if (!ml) {
    ml = new Monologue(r.tag, r.created, r.interface);
    if (r.pending) call.pending = ml;
    else call.monologues.set(r.tag, ml);
  }
  ml.label = r.label;
  ml.viaBranch = r.viaBranch;
  ml.interfaceName = r.interface;
  ml.family = r.family;
  ml.sdpSeen = !!r.sdpSeen;
  ml.control = partyControlOf(r.control);
  ml.ownOrigin = originOf(r);
  restoreSdpKept(ml, r);
  r.medias.forEach((mr, i) => syncMedia(s, call, (ml!.medias[i] ??= new Media(mr.index)), mr));
  for (const extra of ml.medias.splice(r.medias.length)) extra.close();
  ml.bundles = bundlesOf(ml, r.bundles);
  for (const g of ml.bundles) if (g.owner.rtp) g.share();
  return ml;
}

/** A party's groups from a record: indices of its medias (unknown ones and repeats left out). */
function bundlesOf(ml: Monologue, list: unknown): BundleGroup[] {
  if (!Array.isArray(list)) return [];
  const seen = new Set<number>();
  const sections: number[][] = [];
  for (const g of list.slice(0, 16)) {
    if (!Array.isArray(g)) continue;
    const members = g.slice(0, 32).map((index) => ml.medias.findIndex((m) => m.index === index)).filter((i) => i >= 0 && !seen.has(i));
    for (const i of members) seen.add(i);
    if (members.length > 0) sections.push(members);
  }
  return groupsOf(ml.medias, sections);
}

/** Points a bound leg at the record's endpoint: the learned one the owner had, else the SDP's. */
function applyEndpoint(m: Media, st: Stream): void {
  const sdp = m.sdpAddress === null ? null : { address: m.sdpAddress, port: st.isRtcp ? m.sdpRtcpPort : m.sdpRtpPort };
  // The pair first: the endpoint it names then leaves from its local address.
  if (st.recordIcePair) st.leg?.restoreIcePair(st.recordIcePair);
  st.leg?.restore(sdp, st.recordEndpoint);
  if (st.recordSrtp) st.leg?.restoreSrtp(st.recordSrtp);
}

/** Takes each stream's endpoint from the record, for its leg now or once it is bound. */
function restoreEndpoints(call: Call, rec: CallRecord): void {
  for (const pr of rec.parties) {
    const ml = pr.pending ? call.pending : call.findByTag(pr.tag);
    if (!ml) continue;
    pr.medias.forEach((mr, i) => {
      const m = ml.medias[i];
      if (!m) return;
      for (const sr of mr.streams) {
        const st = sr.component === 1 ? m.rtp : m.rtcp;
        if (!st) continue;
        st.recordEndpoint = sr.endpoint ?? null;
        st.recordSrtp = srtpStateOf(sr);
        st.recordIcePair = icePairOf(sr);
        applyEndpoint(m, st);
      }
    });
  }
}

/**
 * Brings a call in line with a record: parties, media, ports (kept when unchanged, bound
 * when new), learned endpoints and links. Used for start-up restore and for foreign updates,
 * on the call's queue.
 */
export async function syncCallFromRecord(s: Services, call: Call, rec: CallRecord): Promise<void> {
  call.lastSignal = rec.lastSignal;
  call.createdFrom = rec.createdFrom ?? '';
  call.ownerId = rec.owner;
  call.generation = rec.generation;
  call.legSettings = rec.learning ?? call.legSettings;
  Object.assign(call.control, partyControlOf(rec.control));
  const seen = new Set<Monologue>();
  for (const pr of rec.parties) seen.add(syncParty(s, call, pr));
  restoreSubscriptions(call, rec);
  for (const ml of call.parties()) {
    if (!seen.has(ml)) {
      ml.close();
      if (call.pending === ml) call.pending = null;
      else call.monologues.delete(ml.tag);
    }
  }
  await bindPending(s, call);
  // Ended while its ports were bound (the caller runs this on the call's queue; a destroy can still come from outside it).
  if (call.destroyed) return;
  restoreEndpoints(call, rec);
  relink(s, call, rec);
}

/** Links parties to their peers and applies learning settings and observers to every leg. */
export function relink(s: Services, call: Call, rec?: CallRecord): void {
  const peers = new Map<Monologue, Monologue>();
  for (const ml of call.parties()) {
    const peerTag = rec ? rec.parties.find((p) => (p.pending ? call.pending === ml : p.tag === ml.tag))?.peer : ml.peer?.tag;
    const peer = peerTag === undefined || peerTag === null ? null : peerTag === '' ? call.pending : call.findByTag(peerTag) ?? null;
    if (peer) peers.set(ml, peer);
  }
  for (const [a, b] of peers) linkParties(a, b);
  linkSubscriptions(call);
  const settings = call.legSettings ?? { learning: s.config.endpointLearning, strictSource: false, mediaHandover: false, asymmetric: false };
  const observer = s.hooks.legObserver(call);
  const tap = s.hooks.tap(call);
  for (const ml of call.parties()) {
    configureLegs(ml, settings, observer, tap);
    applyCrypto(ml, true);
    applyTranscoding(ml);
    applyMediaControl(call, ml);
    applyDtmfReporting(call, ml);
  }
  resumePlaybacks(call);
}

/** Binds every claimed port that has no socket yet, pointing new legs at their endpoints. */
export async function bindPending(s: Services, call: Call): Promise<boolean> {
  let bound = false;
  for (const m of call.medias()) {
    for (const st of m.streams()) {
      if (!st.leg && st.reserved && (await bindStream(s, call, st))) {
        applyEndpoint(m, st);
        bound = true;
      }
      await bindAlternates(s, call, st);
    }
  }
  return bound;
}
