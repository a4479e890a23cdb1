import { NgError } from './errors.js';
import { parseRtppFlags } from './rtppFlags.js';

import type { ReportDict, ReportValue } from '../call/ReportDict.js';

export type NgValue = ReportValue;
export type NgDict = ReportDict;
/** A dict for keys from the wire: none of them can reach Object.prototype (`__proto__`, `constructor` ...). */
export { emptyDict, isDict } from '../call/ReportDict.js';

/** An NG request with keys and flags normalised (case, spaces, hyphens and underscores fold together). */
export class NgRequest {
  private readonly keys = new Map<string, NgValue>();
  readonly flags = new Set<string>();
  /** The flags as they came (codec names in `codec-strip-…` keep their case). */
  readonly rawFlags: string[] = [];

  constructor(
    readonly dict: NgDict,
    /** Source of the datagram, "ip:port". */
    readonly source: string,
    /** The datagram's cookie and encoding (absent for requests built in-process). */
    readonly wire?: { cookie: string; encoding: 'bencode' | 'json' },
  ) {
    for (const k in dict) {
      // The first of two spellings of one key wins, as the first of duplicate keys does.
      const n = normalise(k);
      if (!this.keys.has(n)) this.keys.set(n, dict[k]!);
    }
    const flags = this.keys.get('flags');
    if (Array.isArray(flags)) for (const f of flags) if (typeof f === 'string') this.addFlag(f);
    // `rtpp-flags`: the same keys and flags as one string; a key the dictionary has itself wins.
    const rtpp = this.keys.get('rtpp-flags');
    if (typeof rtpp === 'string') {
      const parsed = parseRtppFlags(rtpp);
      for (const [k, v] of parsed.keys) {
        const n = normalise(k);
        if (!this.keys.has(n)) this.keys.set(n, v);
      }
      for (const f of parsed.flags) this.addFlag(f);
    }
  }

  private addFlag(f: string): void {
    this.flags.add(normalise(f));
    this.rawFlags.push(f);
  }

  get command(): string | undefined {
    const c = this.dict['command'];
    return typeof c === 'string' ? c : undefined;
  }

  raw(key: string): NgValue | undefined {
    return this.keys.get(normalise(key));
  }

  str(key: string): string | undefined {
    const v = this.raw(key);
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return undefined;
  }

  int(key: string): number | undefined {
    const v = this.raw(key);
    if (typeof v === 'number') return Math.trunc(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
    if (v !== undefined) throw new NgError(`Invalid value for key '${key}'`);
    return undefined;
  }

  /** A list key, or a single string taken as a one-element list; values normalised. */
  list(key: string): string[] {
    const v = this.raw(key);
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string').map(normalise);
    if (typeof v === 'string') return [normalise(v)];
    return [];
  }

  /** Raw list of strings (interface names are case-sensitive). */
  rawList(key: string): string[] {
    const v = this.raw(key);
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    if (typeof v === 'string') return [v];
    return [];
  }

  has(flag: string): boolean {
    return this.flags.has(normalise(flag));
  }

  /**
   * A list-valued option that may also come as prefixed flags, e.g. `replace: [origin]` or flag
   * `replace-origin`. `listOnly`: a single string under the key counts for nothing (as rtpengine reads it).
   */
  option(key: string, listOnly = false): ReadonlySet<string> {
    const listed = listOnly && !Array.isArray(this.raw(key)) ? [] : this.list(key);
    let out: Set<string> | null = listed.length > 0 ? new Set(listed) : null;
    if (this.flags.size > 0) {
      const prefix = prefixOf(key);
      for (const f of this.flags) if (f.startsWith(prefix)) (out ??= new Set()).add(f.slice(prefix.length));
    }
    // Most options are absent from most commands: one shared empty set for them.
    return out ?? NONE;
  }

  get callId(): string | undefined {
    return this.str('call-id');
  }
  get fromTag(): string | undefined {
    return this.str('from-tag');
  }
  get toTag(): string | undefined {
    return this.str('to-tag');
  }
  get viaBranch(): string | undefined {
    return this.str('via-branch');
  }
  get sdp(): string | undefined {
    return this.str('sdp');
  }
}

const NONE: ReadonlySet<string> = new Set();

/** `key-`, the prefix of an option's flags; the keys are the code's own, a fixed few. */
const prefixes = new Map<string, string>();
function prefixOf(key: string): string {
  let p = prefixes.get(key);
  if (p === undefined) prefixes.set(key, (p = normalise(key) + '-'));
  return p;
}

export function normalise(k: string): string {
  // Most keys and flags come normalised already; they are asked for many times per command.
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c === 0x20 || c === 0x5f || c > 0x7f) return k.toLowerCase().replace(/[ _]/g, '-');
  }
  return k;
}
