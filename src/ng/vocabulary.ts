import { codecFlagPrefixes, parseOfferAnswer } from './flags.js';
import { normalise, NgRequest, type NgDict, type NgValue } from './NgRequest.js';

/**
 * The NG keys and flags this relay reads, found by asking the offer/answer parser itself: a
 * request that records every key and flag it is asked for goes through `parseOfferAnswer`, so
 * a key or flag the parser starts reading shows up here (and in the compatibility matrix)
 * without a list to keep.
 */
class RecordingRequest extends NgRequest {
  readonly keysAsked = new Set<string>();
  readonly flagsAsked = new Set<string>();
  readonly prefixesAsked = new Set<string>();

  override raw(key: string): NgValue | undefined {
    this.keysAsked.add(normalise(key));
    return super.raw(key);
  }

  override has(flag: string): boolean {
    this.flagsAsked.add(normalise(flag));
    return super.has(flag);
  }

  override option(key: string, listOnly = false): ReadonlySet<string> {
    this.prefixesAsked.add(normalise(key) + '-');
    return super.option(key, listOnly);
  }
}

/** Keys and flags the other commands read, each where the command reads it. */
const COMMAND_KEYS: readonly (readonly [command: string, key: string])[] = [
  ['delete', 'delete-delay'],
  ['query', 'from-tag'],
  ['query', 'to-tag'],
  ['list', 'limit'],
  ...['play media', 'stop media', 'play DTMF'].flatMap((c) => [[c, 'from-tag'], [c, 'to-tag'], [c, 'label'], [c, 'all']] as const),
  ...['file', 'blob', 'blob64', 'db-id', 'repeat-times', 'start-pos', 'duration'].map((k) => ['play media', k] as const),
  ...['code', 'digit', 'duration', 'volume', 'pause'].map((k) => ['play DTMF', k] as const),
  ...['block DTMF', 'unblock DTMF', 'block media', 'unblock media', 'silence media', 'unsilence media', 'start forwarding', 'stop forwarding'].flatMap((c) =>
    ['call-id', 'from-tag', 'label', 'from-label', 'address', 'set-label', 'to-label'].map((k) => [c, k] as const)),
  ['stop recording', 'pause'],
  ['block DTMF', 'DTMF-security'],
  ['block DTMF', 'digit'],
  ['block DTMF', 'code'],
  ['block DTMF', 'frequency'],
  ...(['call-id', 'from-tag', 'from-tags', 'label', 'from-label', 'address', 'all', 'to-tag', 'set-label', 'to-label'] as const).map((k) => ['subscribe request', k] as const),
  ...(['call-id', 'from-tag', 'sdp', 'codec'] as const).map((k) => ['publish', k] as const),
  ['subscribe answer', 'call-id'],
  ['subscribe answer', 'to-tag'],
  ['subscribe answer', 'sdp'],
  ['unsubscribe', 'call-id'],
  ['unsubscribe', 'to-tag'],
  ['every command', 'command'],
  ['every command', 'flags'],
  ['every command', 'rtpp-flags'],
  ['every command', 'supports'],
];
const COMMAND_FLAGS: readonly (readonly [command: string, flag: string])[] = [
  ['delete', 'fatal'],
  ['delete', 'fast'],
  ['delete', 'to-tag'],
  ['stop recording', 'pause'],
  ['play media', 'all'],
  ['stop media', 'all'],
  ['play DTMF', 'all'],
  ...['block DTMF', 'unblock DTMF', 'block media', 'unblock media', 'silence media', 'unsilence media', 'start forwarding', 'stop forwarding'].map((c) => [c, 'all'] as const),
  ['subscribe request', 'all'],
  ['subscribe answer', 'allow-transcoding'],
];
const COMMAND_PREFIXES: readonly (readonly [command: string, prefix: string])[] = [['subscribe request', 'from-tags-']];

export interface NgVocabulary {
  /** Normalised key -> the commands that read it. */
  keys: Map<string, Set<string>>;
  /** Normalised flag -> the commands that read it. */
  flags: Map<string, Set<string>>;
  /** Normalised flag prefixes (`replace-`, `codec-strip-`) -> the commands that read them. */
  prefixes: Map<string, Set<string>>;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function add(m: Map<string, Set<string>>, name: string, command: string): void {
  const n = normalise(name);
  let s = m.get(n);
  if (!s) m.set(n, (s = new Set()));
  s.add(command);
}

/** What `offer`, `answer` and the other commands read from a request. */
export function ngVocabulary(): NgVocabulary {
  const out: NgVocabulary = { keys: new Map(), flags: new Map(), prefixes: new Map() };
  for (const op of ['offer', 'answer'] as const) {
    // Again with every flag asked for so far set, so that keys read only under a flag show up too.
    let flags: string[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const dict: NgDict = { command: op, 'call-id': 'c', 'from-tag': 'f', 'to-tag': 't', sdp: SDP, flags };
      const req = new RecordingRequest(dict, '127.0.0.1:1');
      parseOfferAnswer(req, op);
      for (const k of req.keysAsked) add(out.keys, k, op);
      for (const f of req.flagsAsked) add(out.flags, f, op);
      for (const p of req.prefixesAsked) add(out.prefixes, p, op);
      flags = [...req.flagsAsked];
    }
    for (const p of codecFlagPrefixes(op)) add(out.prefixes, p, op);
  }
  for (const [command, key] of COMMAND_KEYS) add(out.keys, key, command);
  for (const [command, flag] of COMMAND_FLAGS) add(out.flags, flag, command);
  for (const [command, prefix] of COMMAND_PREFIXES) add(out.prefixes, prefix, command);
  return out;
}
