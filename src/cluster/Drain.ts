import { moduleLogger } from '../log.js';
import type { NodeState } from './ClusterTypes.js';

const log = moduleLogger('cluster');

/**
 * Scale-in: a draining node takes no new calls (it forwards new offers to other nodes), keeps
 * relaying the calls it has, and exits once the last one has ended, or at `drain-timeout`.
 */
export class Drain {
  state: NodeState = 'active';
  private since = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Own calls not yet deleted. */
    private readonly liveCalls: () => number,
    private readonly timeoutS: number,
    /** Announces the state at once (a heartbeat). */
    private readonly announce: () => void,
    /** The node is empty (or the timeout came): exit cleanly. */
    private readonly onDone: (why: 'empty' | 'timeout') => void,
  ) {}

  get draining(): boolean {
    return this.state === 'draining';
  }

  start(): void {
    if (this.draining) return;
    this.state = 'draining';
    this.since = Date.now();
    log.info({ calls: this.liveCalls(), timeout: this.timeoutS }, 'draining: no new calls; exiting when the last call ends');
    this.announce();
    this.timer = setInterval(() => this.check(), 200);
  }

  cancel(): void {
    if (!this.draining) return;
    this.state = 'active';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    log.info('drain cancelled: taking new calls again');
    this.announce();
  }

  private check(): void {
    const empty = this.liveCalls() === 0;
    const late = this.timeoutS > 0 && Date.now() - this.since >= this.timeoutS * 1000;
    if (!empty && !late) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onDone(empty ? 'empty' : 'timeout');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
