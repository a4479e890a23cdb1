import { writeSync } from 'node:fs';
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
 * How long a line may wait for others: under load one write carries a burst of lines instead
 * of one system call each (a call's line cost as much as its NG reply), idle it is unnoticed.
 */
const BATCH_MS = 10;

/** A blocking write of all of `text` (a non-blocking pipe that is full is waited for, briefly). */
function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0 && tries < 1000; ) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      tries++;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Human-readable lines as rtpengine writes them to stderr:
 * `[1700000000.123456] INFO: [call-id]: [core] message key=value ...`.
 */
export class TextLog {
  private readonly out;
  private pending = '';
  private timer: NodeJS.Timeout | null = null;

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
    this.pending += this.format(priority, subsystem, msg, fields);
    this.timer ??= setTimeout(this.release, BATCH_MS);
  }

  private readonly release = (): void => {
    this.timer = null;
    const lines = this.pending;
    this.pending = '';
    if (lines !== '') this.out.write(lines);
  };

  /** Everything written so far, now (before an exit): what is still batched goes out synchronously. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const lines = this.pending;
    this.pending = '';
    try {
      this.out.flushSync();
    } catch {
      /* not ready yet: nothing written */
    }
    if (lines !== '') writeAllSync(this.o.fd, lines);
  }
}
