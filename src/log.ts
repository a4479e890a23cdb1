import { fstatSync } from 'node:fs';
import { pino, type Logger, type Level } from 'pino';
import { LOG_SUBSYSTEMS, subsystemOf } from './logSubsystems.js';
import { TextLog, type TextLogOptions } from './logText.js';

export { LOG_SUBSYSTEMS } from './logSubsystems.js';

/** rtpengine's syslog-style log-level (0-7) mapped onto pino levels (JSON format). */
export function pinoLevel(logLevel: number): Level | 'silent' {
  if (logLevel < 0) return 'silent';
  if (logLevel <= 2) return 'fatal';
  if (logLevel === 3) return 'error';
  if (logLevel === 4) return 'warn';
  if (logLevel <= 6) return 'info';
  return 'debug';
}

export type LogFormat = 'default' | 'parsable' | 'json';

export interface LogSettings {
  level: number;
  toStderr: boolean;
  format: LogFormat;
  /** Per rtpengine subsystem (`log-level-core` ...); the others follow `level`. */
  subsystemLevels: Map<string, number>;
  timestamps: boolean;
  /** systemd's journal reads our stream: prefix each line with its priority. */
  journal: boolean;
}

type Severity = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
/** Our five severities as syslog priorities (DEBUG, INFO, WARNING, ERR, CRIT). */
const PRIORITY = new Map<Severity, number>([['debug', 7], ['info', 6], ['warn', 4], ['error', 3], ['fatal', 2]]);

let json: Logger = pino({ level: 'info' }, pino.destination({ fd: 2, sync: true }));
let text: TextLog | null = null;
const levels = new Map<string, number>();
let generation = 0;

function defaultLevels(level: number, given: Map<string, number>): void {
  levels.clear();
  for (const [name] of LOG_SUBSYSTEMS) levels.set(name, given.get(name) ?? (name === 'internals' ? -1 : level));
}

export function initLogging(s: LogSettings): void {
  defaultLevels(s.level, s.subsystemLevels);
  const fd = s.toStderr ? 2 : 1;
  if (s.format === 'json') {
    json = pino({ level: 'debug', base: { pid: process.pid } }, pino.destination({ fd, sync: false }));
    text = null;
  } else {
    const o: TextLogOptions = { fd, timestamps: s.timestamps, journal: s.journal };
    text = new TextLog(o);
  }
  generation++;
}

export function rootLogger(): Logger {
  return json;
}

type LogFn = (objOrMsg: object | string, msg?: string) => void;

export interface ModuleLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  isDebug(): boolean;
}

/** One logger per module, named after it; follows initLogging() and level changes. */
export function moduleLogger(name: string): ModuleLogger {
  const subsystem = subsystemOf(name);
  let child: Logger | null = null;
  let gen = -1;
  const get = (): Logger => {
    if (gen !== generation || !child) {
      child = json.child({ module: name });
      gen = generation;
    }
    return child;
  };
  const enabled = (sev: Severity): boolean => PRIORITY.get(sev)! <= (levels.get(subsystem) ?? 6);
  const fn = (sev: Severity): LogFn => (o, m) => {
    if (!enabled(sev)) return;
    if (text) {
      text.write(PRIORITY.get(sev)!, subsystem, typeof o === 'string' ? o : (m ?? ''), typeof o === 'string' ? undefined : o);
      return;
    }
    const l = get();
    if (typeof o === 'string') l[sev](o);
    else l[sev](o, m);
  };
  return {
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    fatal: fn('fatal'),
    isDebug: () => enabled('debug'),
  };
}

/** SIGUSR1/SIGUSR2 and `set loglevel N` change every subsystem's level at run time. */
export function setLogLevel(logLevel: number): void {
  for (const [name] of LOG_SUBSYSTEMS) levels.set(name, logLevel);
  generation++;
}

/** `set loglevel <subsystem> N`; false for an unknown subsystem. */
export function setSubsystemLevel(subsystem: string, logLevel: number): boolean {
  if (!levels.has(subsystem)) return false;
  levels.set(subsystem, logLevel);
  return true;
}

export function subsystemLevel(subsystem: string): number | undefined {
  return levels.get(subsystem);
}

/** The level of `core`, what SIGUSR1/SIGUSR2 step from. */
export function coreLevel(): number {
  return levels.get('core') ?? 6;
}

export function flushLogs(): void {
  if (text) text.flush();
  else json.flush();
}

// Lines still batched when the process exits (process.exit() on any path) go out first.
process.once('exit', flushLogs);

/** systemd passes JOURNAL_STREAM=dev:ino when our stdout/stderr is the journal's stream. */
export function isJournal(fd: number, env: NodeJS.ProcessEnv): boolean {
  const js = env['JOURNAL_STREAM'];
  if (!js) return false;
  try {
    const st = fstatSync(fd);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}
