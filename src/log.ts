import { pino, type Logger, type Level } from 'pino';

/** rtpengine's syslog-style log-level (0-7) mapped onto pino levels. */
export function pinoLevel(logLevel: number): Level | 'silent' {
  if (logLevel <= 2) return 'fatal';
  if (logLevel === 3) return 'error';
  if (logLevel === 4) return 'warn';
  if (logLevel <= 6) return 'info';
  return 'debug';
}

let root: Logger = pino({ level: 'info' }, pino.destination({ fd: 2, sync: true }));

export function initLogging(logLevel: number, toStderr: boolean): Logger {
  root = pino({ level: pinoLevel(logLevel), base: { pid: process.pid } }, pino.destination({ fd: toStderr ? 2 : 1, sync: false }));
  generation++;
  return root;
}

export function rootLogger(): Logger {
  return root;
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

let generation = 0;

/** One logger per module, named after it; follows initLogging() and level changes. */
export function moduleLogger(name: string): ModuleLogger {
  let child: Logger | null = null;
  let gen = -1;
  const get = (): Logger => {
    if (gen !== generation || !child) {
      child = root.child({ module: name });
      gen = generation;
    }
    return child;
  };
  const fn = (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal'): LogFn => (o, m) => {
    const l = get();
    if (typeof o === 'string') l[level](o);
    else l[level](o, m);
  };
  return {
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    fatal: fn('fatal'),
    isDebug: () => get().isLevelEnabled('debug'),
  };
}

/** SIGUSR1/SIGUSR2 and the CLI change the level at run time. */
export function setLogLevel(logLevel: number): void {
  root.level = pinoLevel(logLevel);
  generation++;
}

export function flushLogs(): void {
  root.flush();
}
