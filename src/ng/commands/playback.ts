import type { Call } from '../../call/Call.js';
import { CallGoneError } from '../../call/errors.js';
import type { Monologue } from '../../call/Monologue.js';
import { playDigit, playFile, stopPlayback, type FilePlayRequest } from '../../call/Playback.js';
import { eventOfDigit } from '../../media/codecs/TelephoneEvent.js';
import { mediaFiles } from '../../media/MediaFiles.js';
import { decodeWav, type DecodedAudio } from '../../media/engine/WavFile.js';
import type { Services } from '../../Services.js';
import { moduleLogger } from '../../log.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { controlledCall, selectParty } from './mediaControl.js';

const log = moduleLogger('ng');

/** rtpengine 10.5's texts for the player commands (the party selection's are media control's). */
export const PlaybackErrorText = {
  noParty: 'No participant party specified',
  noFile: 'No media file specified',
  fileFailed: 'Failed to start media playback from file',
  blobFailed: 'Failed to start media playback from blob',
  dbFailed: 'Failed to start media playback from database',
  notPlaying: 'Not currently playing media',
  codeRange: "Out of range 'code' specified",
} as const;

/**
 * The call and the parties a player command names, as media control selects them (`all`,
 * `label`, `address`, `from-tag`); where 10.5 would answer `No participant party specified`,
 * a `to-tag` names the party too.
 */
function parties(s: Services, req: NgRequest): { call: Call; parties: Monologue[] } {
  const call = controlledCall(s, req);
  if (req.has('all') || req.str('all') === 'all') return { call, parties: [...call.monologues.values()] };
  const party = selectParty(call, req);
  if (party) return { call, parties: [party] };
  const toTag = req.toTag;
  if (toTag === undefined || toTag === '') throw new NgError(PlaybackErrorText.noParty);
  const ml = call.findByTag(toTag);
  if (!ml) throw new NgError(NgErrorText.noSuchFromTag);
  return { call, parties: [ml] };
}

/** A call that ended while the command waited for its queue is unknown, as in rtpengine. */
async function gone<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof CallGoneError) throw new NgError(NgErrorText.unknownCallIdCapital);
    throw e;
  }
}

/** A bencoded string's bytes as they came (the decoder keeps invalid UTF-8 one character per byte). */
function bytesOf(v: string): Buffer {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return Buffer.from(v, 'utf8');
  return Buffer.from(v, 'latin1');
}

async function source(req: NgRequest): Promise<{ audio: DecodedAudio; file: string | null }> {
  const file = req.str('file');
  if (file) {
    try {
      return { audio: await mediaFiles.load(file), file };
    } catch (e) {
      log.warn({ file, err: (e as Error).message }, 'cannot play media file');
      throw new NgError(PlaybackErrorText.fileFailed);
    }
  }
  const blob = req.raw('blob');
  const blob64 = req.str('blob64');
  if ((typeof blob === 'string' && blob.length > 0) || blob64) {
    try {
      return { audio: decodeWav(blob64 ? Buffer.from(blob64, 'base64') : bytesOf(blob as string)), file: null };
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'cannot play media blob');
      throw new NgError(PlaybackErrorText.blobFailed);
    }
  }
  // No media database is configured: rtpengine's answer for a db-id it cannot fetch.
  if ((req.int('db-id') ?? 0) > 0) throw new NgError(PlaybackErrorText.dbFailed);
  throw new NgError(PlaybackErrorText.noFile);
}

/** `play media`: the named parties hear a file, a blob or a database entry; replies its `duration` (ms). */
export async function playMedia(s: Services, req: NgRequest): Promise<NgDict> {
  const target = parties(s, req);
  const { audio, file } = await source(req);
  const play: FilePlayRequest = {
    audio,
    file,
    startMs: Math.max(0, req.int('start-pos') ?? 0),
    repeat: Math.max(1, req.int('repeat-times') ?? 1),
    limitMs: Math.max(0, req.int('duration') ?? 0),
  };
  const duration = await gone(playFile(s, target.call, target.parties, play));
  return duration === null || duration === 0 ? {} : { duration };
}

/** `stop media`: the parties hear their peers again. */
export async function stopMedia(s: Services, req: NgRequest): Promise<NgDict> {
  const target = parties(s, req);
  if (!(await gone(stopPlayback(s, target.call, target.parties)))) throw new NgError(PlaybackErrorText.notPlaying);
  return {};
}

/** The event code of `code`/`digit`: 0-15 as a number, else one character `0-9*#A-D` (rtpengine reads both keys into one). */
function eventCode(req: NgRequest): number {
  const v = req.raw('code') ?? req.raw('digit');
  if (typeof v === 'string' && v.length === 1) {
    const c = v.charCodeAt(0);
    return c <= 15 ? c : eventOfDigit(v);
  }
  const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : 0;
  if (n >= 0 && n <= 15) return n;
  return n >= 0 && n <= 0xffff ? eventOfDigit(String.fromCharCode(n)) : -1;
}

const clamp = (v: number | undefined, dflt: number, lo: number, hi: number): number => (!v ? dflt : Math.min(hi, Math.max(lo, v)));

/** `play DTMF`: a digit into the stream the named party sends (its peer hears it). */
export async function playDtmf(s: Services, req: NgRequest): Promise<NgDict> {
  const target = parties(s, req);
  const durationMs = clamp(req.int('duration'), 250, 100, 5000);
  const pauseMs = clamp(req.int('pause'), 100, 100, 5000);
  const code = eventCode(req);
  if (code < 0 || code > 15) throw new NgError(PlaybackErrorText.codeRange);
  const given = req.int('volume');
  const volume = Math.min(63, Math.abs(given ?? 0) || 8);
  const reportedVolume = given === undefined ? 63 : Math.min(63, Math.abs(given));
  const err = await gone(playDigit(s, target.call, target.parties, { code, durationMs, pauseMs, volume, reportedVolume }));
  if (err) throw new NgError(err);
  return {};
}
