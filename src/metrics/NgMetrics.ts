import { Counter, Histogram, type Registry } from 'prom-client';
import type { NgHandler } from '../ng/NgServer.js';
import { RawReply } from '../ng/RawReply.js';

/** Results as labelled: rtpengine's `result` values folded into three. */
export type NgResult = 'ok' | 'error' | 'load_limit';

/** Seconds; NG commands take about a millisecond, longer when they wait for a Redis write (bounded at 1 s). */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * NG commands by command and result, and how long they took. The command name comes from
 * the wire: only the names the relay implements become label values, everything else is `other`.
 */
export class NgMetrics {
  private readonly known: ReadonlySet<string>;
  private readonly commands: Counter<'command' | 'result'>;
  private readonly duration: Histogram<'command'>;

  constructor(registry: Registry, knownCommands: readonly string[]) {
    this.known = new Set(knownCommands);
    this.commands = new Counter({
      name: 'ngrelay_ng_commands_total',
      help: 'NG commands handled, by command (other: unknown names) and result (ok, error, load_limit)',
      labelNames: ['command', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'ngrelay_ng_command_duration_seconds',
      help: 'Time from a decoded NG request to its reply, by command',
      labelNames: ['command'],
      buckets: BUCKETS,
      registers: [registry],
    });
    // ok and error series from the start, so that rates work from the first scrape (load_limit is rare: it appears when it happens).
    for (const command of [...this.known, 'other']) for (const result of ['ok', 'error'] as const) this.commands.inc({ command, result }, 0);
  }

  /** The label value for a command name from the wire. */
  commandLabel(command: string | undefined): string {
    return command !== undefined && this.known.has(command) ? command : 'other';
  }

  /** Counts and times one handled command. */
  record(command: string | undefined, result: NgResult, seconds: number): void {
    const label = this.commandLabel(command);
    this.commands.inc({ command: label, result });
    this.duration.observe({ command: label }, seconds);
  }

  /** Wraps the NG handler: each request is timed and counted by the result of its reply. */
  observe(handler: NgHandler): NgHandler {
    return async (req) => {
      const started = process.hrtime.bigint();
      const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        const reply = await handler(req);
        this.record(req.command, resultOf(reply instanceof RawReply ? reply.result : reply['result']), seconds());
        return reply;
      } catch (e) {
        this.record(req.command, 'error', seconds());
        throw e;
      }
    };
  }
}

function resultOf(result: unknown): NgResult {
  if (result === 'error') return 'error';
  if (result === 'load limit') return 'load_limit';
  return 'ok';
}
