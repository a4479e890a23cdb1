import { canTranscode, isComfortNoise, isTelephoneEvent } from '../media/engine/CodecCatalog.js';
import { playbackLength, type DtmfSource, type FileSource, type PlaybackSettings } from '../media/engine/PlaybackSettings.js';
import type { PayloadFormat } from '../media/engine/TranscodeSettings.js';
import type { DecodedAudio } from '../media/engine/WavFile.js';
import { mediaFiles } from '../media/MediaFiles.js';
import { moduleLogger } from '../log.js';
import type { Services } from '../Services.js';
import type { Call } from './Call.js';
import { CallGoneError } from './errors.js';
import type { Media } from './Media.js';
import type { Monologue } from './Monologue.js';
import { committed } from './Signalling.js';
import { dtmfReportingOf } from './MediaSetup.js';
import { durationMs, sendDtmfReport } from '../media/DtmfReport.js';

/**
 * Playing files and digits into a call (`play media`, `stop media`, `play DTMF`): which party
 * hears what, in which codec, and the state a restarted or standby relay continues from. The
 * media threads do the playing; this decides and records.
 */

/** A file playback as the call's record keeps it: enough to continue it elsewhere. */
export interface FilePlayRecord {
  file: string;
  /** Epoch ms it began. */
  startedAt: number;
  startMs: number;
  repeat: number;
  limitMs: number;
}

/** What `play media` asks for, once its source is decoded. */
export interface FilePlayRequest {
  audio: DecodedAudio;
  /** The path, when it came from a file (blobs are not continued after a restart). */
  file: string | null;
  startMs: number;
  repeat: number;
  limitMs: number;
}

export interface DtmfPlayRequest {
  code: number;
  durationMs: number;
  pauseMs: number;
  volume: number;
  /** The volume its DTMF report names (rtpengine's: the command's, 63 when none was given). */
  reportedVolume: number;
}

const log = moduleLogger('call');

/** Counters for /metrics. */
export const playbackCounters = { started: 0, dtmfEvents: 0 };

const PTIME = 20;
let nextId = 1;

/** The codecs a party receives on a media: its own list, in its order, that its peer also has. */
export function receivedFormats(ml: Monologue, index: number): { audio: PayloadFormat; event: PayloadFormat | null } | null {
  const m = ml.medias[index];
  if (!m || m.type !== 'audio' || m.rejected || m.passthrough) return null;
  const peer = ml.peer?.medias[index];
  // The peer's stream converted for this party: it gets the pipeline's output.
  if (peer?.transcoding) return { audio: peer.transcoding.output, event: peer.transcoding.outputExtras.find(isTelephoneEvent) ?? null };
  const mine = formatsOf(m);
  const theirs = peer ? formatsOf(peer) : [];
  const shared = (f: PayloadFormat): boolean => theirs.length === 0 || theirs.some((t) => t.encoding.toLowerCase() === f.encoding.toLowerCase() && t.clock === f.clock);
  const audio = mine.find((f) => !isTelephoneEvent(f) && !isComfortNoise(f) && canTranscode(f) && shared(f));
  if (!audio) return null;
  const events = mine.filter((f) => isTelephoneEvent(f) && shared(f));
  return { audio, event: events.find((f) => f.clock === audio.clock) ?? events[0] ?? null };
}

function formatsOf(m: Media): PayloadFormat[] {
  const out: PayloadFormat[] = [];
  m.formats.forEach((pt, i) => {
    const [encoding = '', clock = '', channels = ''] = (m.codecs[i] ?? '').split('/');
    const n = Number(pt);
    if (encoding === '' || !Number.isInteger(n) || n < 0 || n > 127) return;
    out.push({ pt: n, encoding, clock: Number(clock) || 8000, channels: Number(channels) || 1 });
  });
  return out;
}

/** Hands a media's playback to its RTP leg (null stops it). */
export function applyPlayback(m: Media): void {
  // A bundled member plays through its owner's port only when it owns it (the owner's playback is the port's).
  if (m.transportOwner) return;
  m.rtp?.leg?.setPlayback(m.playback?.settings ?? null, m.muxed ? null : (m.rtcp?.leg ?? null));
}

/**
 * `play media`: every audio media of each party hears the file in its own codec. Returns the
 * length of one round of the file in ms (rtpengine's `duration`), or null when no party can
 * receive it (no codec the relay encodes).
 */
export function playFile(s: Services, call: Call, parties: Monologue[], req: FilePlayRequest): Promise<number | null> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const startedAt = Date.now();
    let played = false;
    for (const ml of parties) {
      ml.played = true;
      if (startFile(ml, req, startedAt)) played = true;
    }
    if (!played) return null;
    playbackCounters.started++;
    s.registry.changed(call);
    await committed(s, call);
    return Math.round((req.audio.pcm.length * 1000) / req.audio.rate);
  });
}

function startFile(ml: Monologue, req: FilePlayRequest, startedAt: number): boolean {
  let any = false;
  ml.medias.forEach((m, i) => {
    if (playInto(ml, i, req, startedAt)) any = true;
  });
  return any;
}

/** Plays a file on one media of a party; false when it has no codec the relay encodes. */
function playInto(ml: Monologue, index: number, req: FilePlayRequest, startedAt: number): boolean {
  const m = ml.medias[index]!;
  const codecs = receivedFormats(ml, index);
  if (!codecs || !m.rtp?.leg) return false;
  const source: FileSource = {
    kind: 'file',
    pcm: req.audio.pcm,
    rate: req.audio.rate,
    startSample: Math.min(req.audio.pcm.length, Math.round((req.startMs * req.audio.rate) / 1000)),
    repeat: req.repeat,
    limitMs: req.limitMs,
  };
  m.playback = { settings: { id: nextId++, source, ...codecs, ptime: PTIME, startedAt }, file: req.file };
  m.resumePlay = null;
  applyPlayback(m);
  return true;
}

/**
 * Continues the file playbacks a record gave (a restart, a takeover), from where they stand
 * by now, once the call is ours: a standby never plays into a call its peer still carries.
 * The file is loaded first; the playback then starts on the call's queue.
 */
export function resumePlaybacks(call: Call): void {
  if (call.foreign || call.destroyed) return;
  for (const ml of call.parties()) {
    ml.medias.forEach((m, index) => {
      const rec = m.resumePlay;
      if (!rec) return;
      void mediaFiles.load(rec.file).then(
        (audio) => call.serialize(async () => {
          if (call.destroyed || call.foreign || m.resumePlay !== rec || ml.medias[index] !== m) return;
          ml.played = true;
          playInto(ml, index, { audio, file: rec.file, startMs: rec.startMs, repeat: rec.repeat, limitMs: rec.limitMs }, rec.startedAt);
        }),
        (e: unknown) => log.warn({ callId: call.callId, file: rec.file, err: (e as Error).message }, 'cannot continue media playback'),
      );
    });
  }
}

/** A record's playback, checked and bounded (the record may be another relay's), or null. */
export function filePlayRecordOf(v: unknown): FilePlayRecord | null {
  if (typeof v !== 'object' || v === null) return null;
  const r = v as Record<string, unknown>;
  const num = (x: unknown, lo: number, hi: number): x is number => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
  if (typeof r['file'] !== 'string' || r['file'].length === 0 || r['file'].length > 4096) return null;
  if (!num(r['startedAt'], 0, 1e15) || !num(r['startMs'], 0, 1e10) || !num(r['repeat'], 1, 1e6) || !num(r['limitMs'], 0, 1e10)) return null;
  if (Date.now() - r['startedAt'] > 1e9) return null;
  return { file: r['file'], startedAt: r['startedAt'], startMs: r['startMs'], repeat: Math.trunc(r['repeat']), limitMs: r['limitMs'] };
}

/** `stop media`: false when a party never had media played to it (rtpengine's error). */
export function stopPlayback(s: Services, call: Call, parties: Monologue[]): Promise<boolean> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    if (parties.some((ml) => !ml.played)) return false;
    for (const ml of parties) {
      for (const m of ml.medias) {
        if (!m.playback) continue;
        m.playback = null;
        applyPlayback(m);
      }
    }
    s.registry.changed(call);
    await committed(s, call);
    return true;
  });
}

/**
 * `play DTMF`: the digit goes into the stream `ml` sends, i.e. to its peer, as RFC 4733 events
 * where the peer's media has telephone-event, else as tones in its codec. Returns an
 * rtpengine error text, or null.
 */
export function playDigit(s: Services, call: Call, parties: Monologue[], req: DtmfPlayRequest): Promise<string | null> {
  return call.serialize(async () => {
    if (call.destroyed) throw new CallGoneError();
    const startedAt = Date.now();
    for (const ml of parties) {
      const index = ml.medias.findIndex((m) => m.type === 'audio');
      if (index < 0) return 'Monologue has no media capable of DTMF injection';
      const sink = ml.peer;
      if (!sink) continue;
      const m = sink.medias[index];
      const codecs = receivedFormats(sink, index);
      if (!m || !codecs) return 'Sink monologue has no media capable of DTMF playback';
      const digit = { code: req.code, durationMs: req.durationMs, pauseMs: req.pauseMs, volume: req.volume };
      // Digits still playing: this one queues behind them (their pause first).
      const current = m.playback?.settings;
      const queued = current?.source.kind === 'dtmf' && running(current, startedAt) ? current : null;
      const source: DtmfSource = { kind: 'dtmf', digits: queued?.source.kind === 'dtmf' ? [...queued.source.digits, digit] : [digit] };
      m.playback = { settings: { id: nextId++, source, ...codecs, ptime: PTIME, startedAt: queued?.startedAt ?? startedAt }, file: null };
      applyPlayback(m);
      reportPlayed(call, ml, index, codecs.audio.clock, req);
      playbackCounters.dtmfEvents++;
    }
    await s.media.settled();
    return null;
  });
}

/**
 * rtpengine 10.5 reports a digit it plays (`dtmf-log-dest`) as one the party sent, when the
 * command is taken: its length counted at the codec's clock, the source the party's endpoint.
 */
function reportPlayed(call: Call, ml: Monologue, index: number, clock: number, req: DtmfPlayRequest): void {
  const reporting = dtmfReportingOf(call, ml);
  if (reporting === null) return;
  const leg = ml.medias[index]?.rtp?.leg;
  const source = leg ? leg.remoteAddress || leg.sdpAddress : (ml.medias[index]?.sdpAddress ?? '');
  sendDtmfReport(reporting, source, { event: req.code, durationMs: durationMs(Math.floor((req.durationMs * clock) / 1000), clock), volume: req.reportedVolume });
}

/** Playbacks still running on the relay's calls (a playback ends by itself when its time is up). */
export function activePlaybacks(calls: Iterable<Call>, now = Date.now()): number {
  let n = 0;
  for (const c of calls) for (const m of c.medias()) if (m.playback && running(m.playback.settings, now)) n++;
  return n;
}

function running(p: PlaybackSettings, now: number): boolean {
  return now - p.startedAt < playbackLength(p.source);
}

/** The record of a media's file playback, while it runs (or waits to be continued). */
export function playRecord(m: Media, now = Date.now()): FilePlayRecord | undefined {
  if (m.resumePlay) return m.resumePlay;
  const p = m.playback;
  if (!p || p.file === null || p.settings.source.kind !== 'file' || !running(p.settings, now)) return undefined;
  const src = p.settings.source;
  return { file: p.file, startedAt: p.settings.startedAt, startMs: Math.round((src.startSample * 1000) / src.rate), repeat: src.repeat, limitMs: src.limitMs };
}
