/** Compact header names (RFC 3261 §7.3.3) folded to their long forms. */
const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
};

const canonical = (name: string): string => {
  const n = name.trim().toLowerCase();
  return COMPACT[n] ?? n;
};

/** Splits a header value at commas that are outside <...> and quotes (Via, Route, Record-Route). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth--;
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** A SIP request or response: start line, ordered headers, body (RFC 3261 §7). */
export class SipMessage {
  constructor(
    readonly startLine: string,
    readonly headers: Array<[string, string]>,
    readonly body = '',
  ) {}

  static request(method: string, uri: string, headers: Array<[string, string]>, body = ''): SipMessage {
    return new SipMessage(`${method} ${uri} SIP/2.0`, headers, body);
  }

  static parse(datagram: Buffer): SipMessage {
    const text = datagram.toString('utf8');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`SIP message without header end: ${JSON.stringify(text.slice(0, 200))}`);
    const lines = text.slice(0, end).split('\r\n');
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      if (/^[ \t]/.test(line) && headers.length > 0) {
        headers[headers.length - 1]![1] += ' ' + line.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon > 0) headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
    const msg = new SipMessage(lines[0]!, headers, '');
    const length = Number(msg.header('content-length') ?? '0');
    const body = Buffer.from(text.slice(end + 4), 'utf8').subarray(0, length).toString('utf8');
    return new SipMessage(lines[0]!, headers, body);
  }

  get isResponse(): boolean {
    return this.startLine.startsWith('SIP/2.0 ');
  }

  get status(): number {
    return this.isResponse ? Number(this.startLine.split(' ')[1]) : 0;
  }

  get method(): string {
    return this.isResponse ? this.cseq.method : this.startLine.split(' ')[0]!;
  }

  get requestUri(): string {
    return this.startLine.split(' ')[1]!;
  }

  /** The first value of a header (compact forms accepted). */
  header(name: string): string | undefined {
    const want = canonical(name);
    return this.headers.find(([n]) => canonical(n) === want)?.[1];
  }

  /** Every value of a header, comma-separated lists split, in message order. */
  all(name: string): string[] {
    const want = canonical(name);
    return this.headers.filter(([n]) => canonical(n) === want).flatMap(([, v]) => splitList(v));
  }

  get callId(): string {
    return this.header('call-id') ?? '';
  }

  get cseq(): { seq: number; method: string } {
    const [seq, method] = (this.header('cseq') ?? '0 ?').split(/\s+/);
    return { seq: Number(seq), method: method ?? '?' };
  }

  get fromTag(): string | undefined {
    return tagOf(this.header('from'));
  }

  get toTag(): string | undefined {
    return tagOf(this.header('to'));
  }

  /** The branch parameter of the top Via. */
  get branch(): string | undefined {
    return /;\s*branch=([^;,\s]+)/i.exec(this.all('via')[0] ?? '')?.[1];
  }

  toBuffer(): Buffer {
    const body = Buffer.from(this.body, 'utf8');
    const lines = [this.startLine];
    for (const [n, v] of this.headers) if (canonical(n) !== 'content-length') lines.push(`${n}: ${v}`);
    lines.push(`Content-Length: ${body.length}`, '', '');
    return Buffer.concat([Buffer.from(lines.join('\r\n'), 'utf8'), body]);
  }

  toString(): string {
    return this.toBuffer().toString('utf8');
  }
}

export function tagOf(nameAddr: string | undefined): string | undefined {
  return nameAddr ? /;\s*tag=([^;>\s]+)/i.exec(nameAddr)?.[1] : undefined;
}

/** The URI inside `<...>` of a name-addr, or the value itself. */
export function uriOf(nameAddr: string): string {
  const m = /<([^>]*)>/.exec(nameAddr);
  return (m ? m[1]! : nameAddr.split(';')[0]!).trim();
}

/** host and port of a sip: URI (port 5060 when absent). */
export function hostPortOf(uri: string): { host: string; port: number } {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(uri);
  if (!m) throw new Error(`not a SIP URI: ${uri}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 5060 };
}
