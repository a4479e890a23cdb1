import type { Exposition } from '../metrics/MetricsServer.js';
import type { Cluster } from './Cluster.js';
import type { Member } from './Member.js';

/** Results as labelled, rtpengine's `result` values folded as the relay's metrics fold them. */
type Result = 'ok' | 'error' | 'load_limit';

/** The label of commands the balancer answered itself (`ping`, `list`, no member available ...). */
export const NO_MEMBER = '-';

/** Seconds from a proxy's request to the balancer's reply: the member's time and the balancer's own. */
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

function fold(result: unknown): Result {
  return result === 'error' ? 'error' : result === 'load limit' ? 'load_limit' : 'ok';
}

/**
 * What one cluster's NG address handled: commands by member and result, and how long each
 * took. Plain numbers bumped per command (no label lookup beyond one Map get); Prometheus reads
 * them when it scrapes.
 */
export class CommandFigures {
  readonly byMember = new Map<string, Record<Result, number>>();
  readonly buckets = new Float64Array(BUCKETS.length);
  sum = 0;
  count = 0;

  record(member: string, result: unknown, seconds: number): void {
    let c = this.byMember.get(member);
    if (!c) this.byMember.set(member, (c = { ok: 0, error: 0, load_limit: 0 }));
    c[fold(result)]++;
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
  }
}

/** One cluster as the metrics see it: its call map and members, and its NG address's figures. */
export interface ClusterFigures {
  cluster: Cluster;
  figures: CommandFigures;
}

/** A gauge or counter with one series per member. */
interface MemberMetric {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  /** null: no series for this member (yet). */
  value(m: Member): number | null;
}

const COMMANDS = { name: 'ngrelay_balancer_commands_total', help: 'NG commands answered, by cluster, member that answered (- for the balancer itself) and result (ok, error, load_limit)' };
const DURATION = { name: 'ngrelay_balancer_command_duration_seconds', help: 'Time from a proxy request to the reply, by cluster' };
const CALLS = { name: 'ngrelay_balancer_calls', help: 'Calls in the call map, by cluster' };

const MEMBER_METRICS: readonly MemberMetric[] = [
  { name: 'ngrelay_balancer_member_up', type: 'gauge', help: '1 while the member answers pings (online), else 0', value: (m) => (m.online ? 1 : 0) },
  { name: 'ngrelay_balancer_member_accepting', type: 'gauge', help: '1 while the member takes new calls (online, ACTIVE, below capacity)', value: (m) => (m.accepting ? 1 : 0) },
  { name: 'ngrelay_balancer_member_calls', type: 'gauge', help: 'Calls the map places on the member', value: (m) => m.calls.size },
  { name: 'ngrelay_balancer_member_capacity', type: 'gauge', help: 'The most concurrent calls the member is given', value: (m) => m.spec.capacity },
  { name: 'ngrelay_balancer_member_ping_seconds', type: 'gauge', help: 'Round-trip time of the last answered ping', value: (m) => (m.counters.lastPingMs === null ? null : m.counters.lastPingMs / 1000) },
  { name: 'ngrelay_balancer_member_placed_total', type: 'counter', help: 'New calls the member accepted', value: (m) => m.counters.placed },
  { name: 'ngrelay_balancer_member_failures_total', type: 'counter', help: 'Requests the member did not answer or answered with garbage, and offers it refused', value: (m) => m.counters.failures },
];

/**
 * `GET /metrics` of the balancer (`listen-http`), in the Prometheus text format. Label values
 * are cluster and member names from the configuration (their syntax needs no escaping).
 */
export class BalancerMetrics implements Exposition {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  constructor(private readonly clusters: readonly ClusterFigures[]) {}

  text(): Promise<string> {
    const out: string[] = [];
    const head = (name: string, type: string, help: string): void => void out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    head(COMMANDS.name, 'counter', COMMANDS.help);
    for (const { cluster, figures } of this.clusters) {
      const members = new Set([...cluster.members.keys(), ...figures.byMember.keys()]);
      for (const m of members) {
        const c = figures.byMember.get(m) ?? { ok: 0, error: 0, load_limit: 0 };
        for (const r of ['ok', 'error', 'load_limit'] as const) out.push(`${COMMANDS.name}{cluster="${cluster.name}",member="${m}",result="${r}"} ${c[r]}`);
      }
    }
    head(DURATION.name, 'histogram', DURATION.help);
    for (const { cluster, figures } of this.clusters) {
      const at = `cluster="${cluster.name}"`;
      let acc = 0;
      BUCKETS.forEach((le, i) => {
        acc += figures.buckets[i]!;
        out.push(`${DURATION.name}_bucket{${at},le="${le}"} ${acc}`);
      });
      out.push(`${DURATION.name}_bucket{${at},le="+Inf"} ${figures.count}`, `${DURATION.name}_sum{${at}} ${figures.sum}`, `${DURATION.name}_count{${at}} ${figures.count}`);
    }
    for (const metric of MEMBER_METRICS) {
      head(metric.name, metric.type, metric.help);
      for (const { cluster } of this.clusters) {
        for (const m of cluster.members.values()) {
          const v = metric.value(m);
          if (v !== null) out.push(`${metric.name}{cluster="${cluster.name}",member="${m.name}"} ${v}`);
        }
      }
    }
    head(CALLS.name, 'gauge', CALLS.help);
    for (const { cluster } of this.clusters) out.push(`${CALLS.name}{cluster="${cluster.name}"} ${cluster.calls}`);
    out.push('');
    return Promise.resolve(out.join('\n'));
  }
}
