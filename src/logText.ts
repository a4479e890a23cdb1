import { pino } from 'pino';

/** rtpengine's level names, by syslog priority. */
const LEVEL_NAMES = ['EMERG', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

export interface TextLogOptions {
  fd: number;
  timestamps: boolean;
  /** `<N>` priority prefixes for systemd-journald (it strips them and keeps the priority). */
  journal: boolean;
}

/** Field names that carry the call-id: shown as rtpengine shows it, `[call-id]: `. */
const CALL_ID_KEYS = ['callId', 'call-id'];

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/**
 * Human-readable lines as rtpengine writes them to stderr:
 * `[1700000000.123456] INFO: [call-id]: [core] message key=value ...`.
 */
export class TextLog {
  private readonly out;

  constructor(private readonly o: TextLogOptions) {
    this.out = pino.destination({ fd: o.fd, sync: false });
  }

  format(priority: number, subsystem: string, msg: string, fields?: object, now = performance.timeOrigin + performance.now()): string {
    let callId: string | undefined;
    const extra: string[] = [];
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (v === undefined) continue;
      if (CALL_ID_KEYS.includes(k) && typeof v === 'string' && callId === undefined) callId = v;
      else extra.push(`${k}=${fieldText(v)}`);
    }
    let line = '';
    if (this.o.journal) line += `<${priority}>`;
    if (this.o.timestamps) line += `[${(now / 1000).toFixed(6)}] `;
    line += `${LEVEL_NAMES[priority] ?? 'INFO'}: `;
    if (callId !== undefined) line += `[${callId}]: `;
    line += `[${subsystem}] ${msg}`;
    if (extra.length > 0) line += ` ${extra.join(' ')}`;
    // One record, one line: a multi-line value (a stack) must not pose as further records.
    return line.replace(/\r?\n/g, '\\n') + '\n';
  }

  write(priority: number, subsystem: string, msg: string, fields?: object): void {
    this.out.write(this.format(priority, subsystem, msg, fields));
  }

  flush(): void {
    try {
      this.out.flushSync();
    } catch {
      /* not ready yet: nothing written */
    }
  }
}
