import type { CallRegistry } from './call/CallRegistry.js';
import { flushLogs, moduleLogger } from './log.js';

const log = moduleLogger('main');

/** EX_SOFTWARE: the relay found itself in a state it cannot vouch for. */
export const CRASH_EXIT_CODE = 70;

/**
 * What happens to an exception or a rejection that nothing caught. NG commands and the call
 * timers contain their own failures: the call they hit ends, the failure is counted, the relay
 * goes on. What reaches the process was thrown from some event callback outside any call's
 * work, at an arbitrary point of whatever it was changing: the relay counts and logs it and
 * exits with CRASH_EXIT_CODE at once, without a clean shutdown (which would run on that state),
 * so that systemd starts it again and the restarted relay restores its calls from Redis. A
 * promise that failed with nobody waiting for it interrupted nothing but its own work: it is
 * counted and logged, and the relay goes on.
 */
export function installCrashPolicy(registry: CallRegistry): void {
  process.on('uncaughtException', (err) => {
    registry.stats.internalErrors++;
    log.error({ err: err.stack }, `uncaught exception: the relay's state cannot be trusted; exiting (code ${CRASH_EXIT_CODE}) for a restart`);
    flushLogs();
    process.exit(CRASH_EXIT_CODE);
  });
  process.on('unhandledRejection', (err) => {
    registry.stats.internalErrors++;
    log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection');
  });
}
