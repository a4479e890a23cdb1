import type { Call } from '../call/Call.js';
import type { Media } from '../call/Media.js';
import type { Monologue } from '../call/Monologue.js';
import { transcodeSettingsOf } from '../media/engine/TranscodeSettings.js';
import type { Codec } from '../sdp/codecs.js';
import type { CallRecord, MediaRecord, PartyRecord } from './CallRecord.js';

/**
 * Pub/sub state read back from a record (another relay's, maybe hostile): what a party's
 * subscribers are offered, who subscribes to whom and which media each subscriber's media
 * copies. Bounded and checked; what does not check out is left out.
 */

const MAX_CODECS = 32;
const MAX_SUBSCRIPTIONS = 64;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shortText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const int = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function codecOf(v: unknown): Codec | null {
  if (!isObj(v) || !shortText(v['pt'], 3) || !/^\d+$/.test(v['pt']) || !shortText(v['encoding'], 32)) return null;
  if (!int(v['clock'], 0, 192000) || !int(v['channels'], 1, 8)) return null;
  const c: Codec = { pt: v['pt'], encoding: v['encoding'], clock: v['clock'], channels: v['channels'] };
  if (shortText(v['fmtp'], 512)) c.fmtp = v['fmtp'];
  return c;
}

/** A media's offered codecs and a=ptime from its record. */
export function restoreSent(m: Media, r: MediaRecord): void {
  const list = Array.isArray(r.sent) ? (r.sent as unknown[]).slice(0, MAX_CODECS).map(codecOf) : [];
  m.sent = list.filter((c): c is Codec => c !== null);
  m.ptime = int(r.ptime, 1, 1000) ? r.ptime : undefined;
}

/** A party's own o= and s= values from its record. */
export function originOf(r: PartyRecord): Monologue['ownOrigin'] {
  const o = r.origin as unknown;
  if (!isObj(o) || !shortText(o['origin'], 512) || !shortText(o['sessionName'], 512)) return undefined;
  return { origin: o['origin'], sessionName: o['sessionName'], sessionConnection: o['sessionConnection'] !== false };
}

/** What the SDPs sent to the party keep, from its record (nothing from one that is not well formed). */
export function restoreSdpKept(ml: Monologue, r: PartyRecord): void {
  const k = r.sdpKept as unknown;
  const version = isObj(k) && shortText(k['version'], 20) && /^\d+$/.test(k['version']) ? BigInt(k['version']) : undefined;
  const ok = isObj(k) && shortText(k['username'], 512) && shortText(k['sessionName'], 512) && version !== undefined;
  ml.sdpUsername = ok ? k['username'] as string : undefined;
  ml.sdpSessionName = ok ? k['sessionName'] as string : undefined;
  ml.sdpVersion = ok ? version : undefined;
  ml.lastOutDigest = ok && shortText(k['last'], 64) ? k['last'] : undefined;
}

/** Who subscribes to whom, and what each subscriber's media copies, as the record says (once every party exists). */
export function restoreSubscriptions(call: Call, rec: CallRecord): void {
  for (const ml of call.parties()) {
    ml.subscriptions = [];
    ml.subscribers = [];
  }
  for (const pr of rec.parties) {
    const ml = pr.pending ? call.pending : call.findByTag(pr.tag);
    if (!ml) continue;
    const tags = Array.isArray(pr.subscriptions) ? (pr.subscriptions as unknown[]).slice(0, MAX_SUBSCRIPTIONS) : [];
    for (const tag of tags) {
      const src = typeof tag === 'string' ? call.findByTag(tag) : undefined;
      if (!src || src === ml || ml.subscriptions.includes(src)) continue;
      ml.subscriptions.push(src);
      src.subscribers.push(ml);
    }
    pr.medias.forEach((mr, i) => {
      const m = ml.medias[i];
      if (m) m.subscription = subscriptionOf(call, ml, mr);
    });
  }
}

function subscriptionOf(call: Call, ml: Monologue, r: MediaRecord): Media['subscription'] {
  const s = r.subscription as unknown;
  if (!isObj(s) || typeof s['tag'] !== 'string' || !int(s['index'], 1, 1000)) return null;
  const party = call.findByTag(s['tag']);
  const media = party?.medias[s['index'] - 1];
  if (!party || !media || !ml.subscriptions.includes(party)) return null;
  return { party, media, transcoding: s['transcode'] === undefined ? null : transcodeSettingsOf(s['transcode']) };
}
