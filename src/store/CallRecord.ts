import { isIP } from 'node:net';
import type { Call } from '../call/Call.js';
import type { LegSettings } from '../call/LegSettings.js';
import type { Media, MediaEchoMode } from '../call/Media.js';
import type { Monologue } from '../call/Monologue.js';
import { isDefaultControl, type PartyControl } from '../call/PartyControl.js';
import { playRecord, type FilePlayRecord } from '../call/Playback.js';
import type { IcePair, LegSrtpState, SrtpIndex, SrtpKeying } from '../media/MediaPlane.js';
import { srtpSuite } from '../media/transforms/SrtpSuite.js';
import type { TranscodeSettings } from '../media/engine/TranscodeSettings.js';
import type { Codec } from '../sdp/codecs.js';
import { codecListRecord, type CodecListRecord } from '../sdp/CodecStore.js';
import type { Direction } from '../sdp/SessionDescription.js';

/** Version of the record layout below; docs/redis.md describes it. */
export const RECORD_VERSION = 1;

export interface StreamRecord {
  component: 1 | 2;
  interface: string;
  address: string;
  family: 4 | 6;
  port: number;
  /** The learned endpoint the relay sends to, if known. */
  endpoint: { address: string; port: number; confirmed: boolean } | null;
  /**
   * Where the leg's SRTP streams stand (absent: none yet): per SSRC and direction the
   * rollover counter, highest sequence number and SRTCP index. Rewritten when an index moves
   * on by a quarter of a ROC, so a restored leg guesses every ROC right (RFC 3711 3.3.1).
   */
  srtp?: SrtpStateRecord;
  /** ICE: the stream's ports on other addresses of its interface, in candidate order (absent: none). */
  alternates?: { address: string; port: number }[];
  /**
   * ICE: the pair media uses (absent: none yet): the local candidate's address, the party's
   * candidate, whether it is nominated (ICE complete), and the relay's ufrag it belongs to.
   */
  icePair?: IcePair;
}

/** A leg's SRTP state as it travels in the record (keys of a DTLS handshake in base64). */
export interface SrtpStateRecord {
  recv: SrtpIndex[];
  send: SrtpIndex[];
  dtlsKeys?: { recv: KeyRecord; send: KeyRecord };
}

export interface MediaRecord {
  index: number;
  type: string;
  protocol: string;
  formats: string[];
  codecs: string[];
  direction: Direction;
  rtcpMux: boolean;
  muxed: boolean;
  /** The offer's decision on muxing towards the offerer in the answer (null: follow the answerer). */
  muxInAnswer?: boolean | null;
  rejected: boolean;
  sdp: { address: string; rtp: number; rtcp: number } | null;
  streams: StreamRecord[];
  /** SDES of this party: its own a=crypto lines, the ones the relay gave it, and its legs' keys (absent: plain). */
  srtp?: SrtpRecord;
  /** DTLS-SRTP towards this party: the relay's role and the party's certificate fingerprint (absent: none). */
  dtls?: { role: 'client' | 'server'; fingerprint: { hash: string; value: string } | null };
  /**
   * ICE towards this party (absent: no ICE): the relay's credentials, the party's (`peer`), the
   * relay's role and whether it is the lite side. The pair in use is the streams' endpoint.
   */
  ice?: { ufrag: string; pwd: string; peer?: { ufrag: string; pwd: string }; controlling?: boolean; lite?: boolean };
  /** The pipeline converting what this party sends (absent: relayed as it is). */
  transcode?: TranscodeSettings;
  /** This party's codec list as negotiated, and the a=ptime it is given (absent: none yet), for the next offer or answer. */
  codecList?: CodecListRecord;
  sdpPtime?: number;
  ptimeOverride?: boolean;
  /** `media echo`: what this party sends goes back to it or nowhere (absent: to its peer). */
  echo?: MediaEchoMode;
  /** The file this party hears in place of its peer, while it plays (absent: none). */
  play?: FilePlayRecord;
  /** The codecs of the party's own SDP and its a=ptime: what its subscribers are offered (absent: none). */
  sent?: Codec[];
  ptime?: number;
  /** Its a=mid and the a=extmap id of its MID header extension (absent: none), for a bundle's demultiplexing. */
  mid?: string;
  midExtension?: number;
  /** A subscriber's media: the party (tag) and media (index) it copies, and the pipeline converting the copies (absent: not a subscriber). */
  subscription?: { tag: string; index: number; transcode?: TranscodeSettings };
}

/** A key as it travels in the record: suite name and base64 key and salt. */
export interface KeyRecord {
  suite: string;
  key: string;
  salt: string;
  /** The key's MKI (hex), when it has one: every packet under the key carries it. */
  mki?: string;
}

export interface SrtpRecord {
  sdes: (KeyRecord & { tag: number })[];
  ourSdes: (KeyRecord & { tag: number })[];
  recv: KeyRecord | null;
  send: KeyRecord | null;
  /** OSRTP towards this party; its profile set by `transport-protocol`; SDES left out of offers to it. */
  osrtp?: boolean;
  override?: boolean;
  sdesOff?: boolean;
  /** The hash of our `a=fingerprint` towards this party. */
  fpHash?: string;
}

export interface PartyRecord {
  tag: string;
  pending: boolean;
  label?: string;
  viaBranch?: string;
  created: number;
  interface: string;
  family?: 4 | 6;
  peer: string | null;
  sdpSeen: boolean;
  medias: MediaRecord[];
  /** Block/silence/forwarding of what the party sends (absent: none). */
  control?: PartyControl;
  /** A subscriber: the tags of the parties it copies, in order (absent: none). */
  subscriptions?: string[];
  /**
   * BUNDLE towards the party: per group the `index` of its medias, the first owning the port;
   * the others have no streams of their own (absent: none).
   */
  bundles?: number[][];
  /**
   * What the SDPs sent to the party keep (`replace` username, session-name, SDP-version): the
   * first o= username and s=, the o= version and a digest of the last SDP (absent: none sent).
   */
  sdpKept?: { username: string; sessionName: string; version: string; last?: string };
  /** The o= and s= values of the party's own SDP (absent: none seen). */
  origin?: { origin: string; sessionName: string; sessionConnection?: boolean };
}

export interface CallRecord {
  version: number;
  callId: string;
  /** Relay that owns the call and its ownership generation: a higher generation wins. */
  owner: string;
  generation: number;
  /** The DB the owner writes this record to. */
  db: number;
  created: number;
  lastSignal: number;
  createdFrom: string;
  learning: LegSettings | null;
  parties: PartyRecord[];
  /** Block/silence/forwarding of the whole call (absent: none). */
  control?: PartyControl;
}

export class RecordError extends Error {}

function srtpState(s: LegSrtpState | null): { srtp?: SrtpStateRecord } {
  if (s === null || (s.recv.length === 0 && s.send.length === 0 && !s.dtlsKeys)) return {};
  const k = s.dtlsKeys;
  return { srtp: { recv: s.recv, send: s.send, ...(k ? { dtlsKeys: { recv: keyRecord(k.recv), send: keyRecord(k.send) } } : {}) } };
}

// Bounded record values: a suite name, base64 of at most a 46-byte key.
const B64 = /^[A-Za-z0-9+/]{1,88}={0,2}$/;
/** An MKI: 1 to 128 bytes in hex. */
const MKI_HEX = /^(?:[0-9a-f]{2}){1,128}$/;

/** A key from a record, checked against its suite; null when malformed. */
export function keyOfRecord(k: unknown): SrtpKeying & { key: Buffer; salt: Buffer; mki?: Buffer } | null {
  if (typeof k !== 'object' || k === null) return null;
  const r = k as Record<string, unknown>;
  if (typeof r['suite'] !== 'string' || typeof r['key'] !== 'string' || typeof r['salt'] !== 'string' || !B64.test(r['key']) || !B64.test(r['salt'])) return null;
  const suite = srtpSuite(r['suite']);
  const key = Buffer.from(r['key'], 'base64');
  const salt = Buffer.from(r['salt'], 'base64');
  if (!suite || key.length !== suite.keyLength || salt.length !== suite.saltLength) return null;
  const mki = r['mki'];
  if (mki === undefined) return { suite: suite.name, key, salt };
  if (typeof mki !== 'string' || !MKI_HEX.test(mki)) return null;
  return { suite: suite.name, key, salt, mki: Buffer.from(mki, 'hex') };
}

/** At most this many SSRCs per direction are read from a record (the relay tracks no more). */
const MAX_RECORD_SSRCS = 64;
export const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

function srtpIndices(list: unknown): SrtpIndex[] {
  if (!Array.isArray(list)) return [];
  const out: SrtpIndex[] = [];
  for (const r of list.slice(0, MAX_RECORD_SSRCS)) {
    if (typeof r !== 'object' || r === null) continue;
    const { ssrc, roc, seq, rtcp } = r as Record<string, unknown>;
    if (isUint(ssrc, 0xffffffff) && isUint(roc, 0xffffffff) && isUint(seq, 0xffff) && (rtcp === -1 || isUint(rtcp, 0x7fffffff))) out.push({ ssrc, roc, seq, rtcp: rtcp as number });
  }
  return out;
}

/** A stream record's SRTP indices, bounded and checked (malformed entries are left out); null when none. */
export function srtpStateOf(r: StreamRecord): LegSrtpState | null {
  const v = r.srtp as unknown;
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Record<string, unknown>;
  const state: LegSrtpState = { recv: srtpIndices(s['recv']), send: srtpIndices(s['send']) };
  const k = s['dtlsKeys'] as Record<string, unknown> | undefined;
  const recv = keyOfRecord(k?.['recv']);
  const send = keyOfRecord(k?.['send']);
  if (recv && send) state.dtlsKeys = { recv, send };
  return state.recv.length === 0 && state.send.length === 0 && !state.dtlsKeys ? null : state;
}

/** A stream record's ICE pair, checked (addresses as IP literals, a port, a ufrag); null when absent or malformed. */
export function icePairOf(r: StreamRecord): IcePair | null {
  const v = r.icePair as unknown;
  if (typeof v !== 'object' || v === null) return null;
  const p = v as Record<string, unknown>;
  const { local, address, port, nominated, ufrag } = p;
  if (typeof local !== 'string' || isIP(local) === 0 || typeof address !== 'string' || isIP(address) === 0) return null;
  if (!isUint(port, 65535) || port === 0 || typeof nominated !== 'boolean' || typeof ufrag !== 'string' || ufrag.length > 256) return null;
  return { local, address, port, nominated, ufrag };
}

function keyRecord(k: { suite: string; key: Uint8Array; salt: Uint8Array; mki?: Uint8Array }): KeyRecord {
  const r: KeyRecord = { suite: k.suite, key: Buffer.from(k.key).toString('base64'), salt: Buffer.from(k.salt).toString('base64') };
  if (k.mki) r.mki = Buffer.from(k.mki).toString('hex');
  return r;
}
/** The party's SDES state, so that a standby or a restart relays the call with the same keys. */
function srtpRecord(m: Media): SrtpRecord | undefined {
  const w = m.webrtc;
  if (m.sdes.length === 0 && m.ourSdes.length === 0 && m.crypto === null && !m.osrtp && !m.protocolOverride && m.sdesOff === null && w.fpHash === null) return undefined;
  return {
    sdes: m.sdes.map((c) => ({ tag: c.tag, ...keyRecord(c) })),
    ourSdes: m.ourSdes.map((c) => ({ tag: c.tag, ...keyRecord(c) })),
    recv: m.crypto?.recv ? keyRecord(m.crypto.recv) : null,
    send: m.crypto?.send ? keyRecord(m.crypto.send) : null,
    ...(m.osrtp ? { osrtp: true } : {}),
    ...(m.protocolOverride ? { override: true } : {}),
    ...(m.sdesOff !== null ? { sdesOff: m.sdesOff } : {}),
    ...(w.fpHash !== null ? { fpHash: w.fpHash } : {}),
  };
}

function subscriptionRecord(s: NonNullable<Media['subscription']>): NonNullable<MediaRecord['subscription']> {
  return { tag: s.party.tag, index: s.media.index, ...(s.transcoding ? { transcode: s.transcoding } : {}) };
}

function iceRecord(w: Media['webrtc']): NonNullable<MediaRecord['ice']> {
  const ice = w.ourIce!;
  const peer = w.icePeer;
  return {
    ufrag: ice.ufrag, pwd: ice.pwd,
    ...(peer ? { peer: { ufrag: peer.ufrag, pwd: peer.pwd } } : {}),
    ...(w.iceControlling !== null ? { controlling: w.iceControlling } : {}),
    ...(w.iceLiteSelf ? { lite: true } : {}),
  };
}

function icePairRecord(p: IcePair | null): { icePair?: IcePair } {
  return p === null ? {} : { icePair: { local: p.local, address: p.address, port: p.port, nominated: p.nominated, ufrag: p.ufrag } };
}

function mediaRecord(m: Media): MediaRecord {
  const srtp = srtpRecord(m);
  const ice = m.webrtc.ourIce;
  const dtls = m.webrtc.dtls;
  const play = playRecord(m);
  return {
    ...(dtls ? { dtls: { role: dtls.role, fingerprint: dtls.fingerprint } } : {}),
    ...(play ? { play } : {}),
    ...(srtp ? { srtp } : {}),
    ...(ice ? { ice: iceRecord(m.webrtc) } : {}),
    ...(m.transcoding ? { transcode: m.transcoding } : {}),
    ...(m.codecStore ? { codecList: codecListRecord(m.codecStore) } : {}),
    ...(m.sdpPtime !== undefined ? { sdpPtime: m.sdpPtime } : {}),
    ...(m.ptimeOverride ? { ptimeOverride: true } : {}),
    ...(m.echo ? { echo: m.echo } : {}),
    ...(m.sent.length > 0 ? { sent: m.sent } : {}),
    ...(m.ptime !== undefined ? { ptime: m.ptime } : {}),
    ...(m.subscription ? { subscription: subscriptionRecord(m.subscription) } : {}),
    ...(m.webrtc.mid !== undefined ? { mid: m.webrtc.mid } : {}),
    ...(m.midExtension !== 0 ? { midExtension: m.midExtension } : {}),
    index: m.index,
    type: m.type,
    protocol: m.protocol,
    formats: m.formats,
    codecs: m.codecs,
    direction: m.direction,
    rtcpMux: m.rtcpMux,
    muxed: m.muxed,
    muxInAnswer: m.muxInAnswer,
    rejected: m.rejected,
    sdp: m.sdpAddress === null ? null : { address: m.sdpAddress, rtp: m.sdpRtpPort, rtcp: m.sdpRtcpPort },
    streams: m.streams().map((st) => ({
      component: st.component,
      interface: st.local.name,
      address: st.local.address,
      family: st.local.family,
      port: st.localPort,
      endpoint: st.leg ? (st.leg.remotePort !== 0 ? { address: st.leg.remoteAddress, port: st.leg.remotePort, confirmed: st.leg.confirmed } : null) : st.recordEndpoint,
      ...srtpState(st.leg ? st.leg.srtpState : st.recordSrtp),
      ...(st.alternates.length > 0 ? { alternates: st.alternates.map((a) => ({ address: a.local.address, port: a.port })) } : {}),
      ...icePairRecord(st.leg ? st.leg.icePair : st.recordIcePair),
    })),
  };
}

function partyRecord(ml: Monologue, pending: boolean): PartyRecord {
  return {
    tag: ml.tag,
    pending,
    label: ml.label,
    viaBranch: ml.viaBranch,
    created: ml.created,
    interface: ml.interfaceName,
    family: ml.family,
    peer: ml.peer ? ml.peer.tag : null,
    sdpSeen: ml.sdpSeen,
    medias: ml.medias.map(mediaRecord),
    ...(isDefaultControl(ml.control) ? {} : { control: ml.control }),
    ...(ml.subscriptions.length > 0 ? { subscriptions: ml.subscriptions.map((x) => x.tag) } : {}),
    ...(ml.ownOrigin ? { origin: ml.ownOrigin } : {}),
    ...(ml.sdpUsername !== undefined
      ? { sdpKept: { username: ml.sdpUsername, sessionName: ml.sdpSessionName ?? '', version: String(ml.sdpVersion ?? 0n), ...(ml.lastOutDigest !== undefined ? { last: ml.lastOutDigest } : {}) } }
      : {}),
    ...(ml.bundles.length > 0 ? { bundles: ml.bundles.map((g) => g.members.map((m) => m.index)) } : {}),
  };
}

export function encodeCall(call: Call, db: number): string {
  const rec: CallRecord = {
    version: RECORD_VERSION,
    callId: call.callId,
    owner: call.ownerId,
    generation: call.generation,
    db,
    created: call.created,
    lastSignal: call.lastSignal,
    createdFrom: call.createdFrom,
    learning: call.legSettings,
    parties: [...call.monologues.values()].map((ml) => partyRecord(ml, false)),
    ...(isDefaultControl(call.control) ? {} : { control: call.control }),
  };
  if (call.pending) rec.parties.push(partyRecord(call.pending, true));
  return JSON.stringify(rec);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RecordError(`${what} is not a number`);
  return v;
};
const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new RecordError(`${what} is not a string`);
  return v;
};

/** Parses and checks a record; anything unexpected is a RecordError (logged and skipped by callers). */
export function decodeCall(text: string): CallRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new RecordError('not JSON');
  }
  if (!isObj(v)) throw new RecordError('not an object');
  if (v['version'] !== RECORD_VERSION) throw new RecordError(`unknown record version ${String(v['version'])}`);
  str(v['callId'], 'callId');
  str(v['owner'], 'owner');
  num(v['generation'], 'generation');
  num(v['db'], 'db');
  num(v['created'], 'created');
  num(v['lastSignal'], 'lastSignal');
  if (!Array.isArray(v['parties'])) throw new RecordError('parties is not a list');
  for (const p of v['parties'] as unknown[]) {
    if (!isObj(p)) throw new RecordError('party is not an object');
    str(p['tag'], 'party tag');
    str(p['interface'], 'party interface');
    if (!Array.isArray(p['medias'])) throw new RecordError('medias is not a list');
    for (const m of p['medias'] as unknown[]) {
      if (!isObj(m) || !Array.isArray(m['streams'])) throw new RecordError('media is malformed');
      for (const s of m['streams'] as unknown[]) {
        if (!isObj(s)) throw new RecordError('stream is not an object');
        const port = num(s['port'], 'stream port');
        if (port < 1 || port > 65535) throw new RecordError(`stream port ${port} out of range`);
        str(s['interface'], 'stream interface');
        str(s['address'], 'stream address');
        if (s['component'] !== 1 && s['component'] !== 2) throw new RecordError('stream component is not 1 or 2');
      }
    }
  }
  return v as unknown as CallRecord;
}
