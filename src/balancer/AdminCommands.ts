import type { Cluster } from './Cluster.js';
import type { Member } from './Member.js';
import { MemberSpecError, parseMemberSpec } from './MemberSpec.js';

/** What the admin commands work on: the clusters, and `save` (null when there is no config file). */
export interface AdminContext {
  clusters: Cluster[];
  save: (() => string) | null;
}

const OK = 'OK\n';
const err = (text: string): string => `ERROR: ${text}\n`;

function memberText(m: Member, i: number): string {
  const lines = [
    `    Member: #${i}`,
    `        name = ${m.name}`,
    `        address = ${m.address}`,
    `        weight = ${m.spec.weight}`,
    `        capacity = ${m.spec.capacity}`,
    `        state = ${m.online ? 'online' : 'offline'}`,
    `        active sessions = ${m.calls.size}`,
    `        status = ${m.status}`,
  ];
  if (m.spec.label) lines.push(`        label = ${m.spec.label}`);
  lines.push(
    `        calls placed = ${m.counters.placed}`,
    `        failures = ${m.counters.failures}`,
    `        last ping = ${m.counters.lastPingMs === null ? '-' : `${m.counters.lastPingMs.toFixed(2)} ms`}`,
  );
  return lines.join('\n') + '\n';
}

function clusterDetail(c: Cluster, index: number): string {
  const members = [...c.members.values()];
  const active = members.filter((m) => m.online);
  const inactive = members.filter((m) => !m.online);
  let out = `Active members of the cluster #${index}:\n`;
  active.forEach((m, i) => (out += memberText(m, i) + '\n'));
  out += `Inactive members of the cluster #${index}:\n`;
  inactive.forEach((m, i) => (out += memberText(m, i) + '\n'));
  return out + '\n';
}

function clusterSummary(c: Cluster, index: number): string {
  const members = [...c.members.values()];
  const online = members.filter((m) => m.online).length;
  return [
    `Cluster: #${index}`,
    `    name = ${c.name}`,
    `    address = ${c.spec.listenNg.host}:${c.spec.listenNg.port}`,
    `    active members = ${online}`,
    `    inactive members = ${members.length - online}`,
    '',
  ].join('\n') + '\n';
}

function totals(c: Cluster): string {
  const members = [...c.members.values()];
  const sum = (f: (m: Member) => number): number => members.reduce((a, m) => a + f(m), 0);
  return [
    `Cluster ${c.name}:`,
    `    members online = ${members.filter((m) => m.online).length}`,
    `    members offline = ${members.filter((m) => !m.online).length}`,
    `    active sessions = ${c.calls}`,
    `    capacity = ${sum((m) => m.spec.capacity)}`,
    `    calls placed = ${sum((m) => m.counters.placed)}`,
    `    failures = ${sum((m) => m.counters.failures)}`,
    '',
  ].join('\n') + '\n';
}

/** rtp_cluster's admin commands (`ls`, `modify`), plus `totals` and `save`; one line in, text out. */
export function runAdminLine(ctx: AdminContext, line: string): string {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const find = (name: string | undefined): Cluster | undefined => ctx.clusters.find((c) => c.name === name);
  const [cmd, ...rest] = words;
  switch (cmd) {
    case 'ls': {
      if (rest.length === 0) return ctx.clusters.map(clusterSummary).join('') + OK;
      const i = ctx.clusters.findIndex((c) => c.name === rest[0]);
      if (i < 0 || rest.length > 1) return err(`no cluster '${rest.join(' ')}'`);
      return clusterDetail(ctx.clusters[i]!, i) + OK;
    }
    case 'totals':
      return ctx.clusters.map(totals).join('') + OK;
    case 'modify': {
      const [clusterName, action, arg, ...more] = rest;
      const c = find(clusterName);
      if (!c) return err(`no cluster '${clusterName ?? ''}'`);
      try {
        switch (action) {
          case 'add':
            if (arg === undefined || more.length > 0) return err('usage: modify CLUSTER add name=..,address=IP:PORT,capacity=..,weight=..[,label=..]');
            c.add(parseMemberSpec(arg));
            return OK;
          case 'delete':
            if (arg === undefined || (more.length > 0 && (more.length > 1 || more[0] !== 'force'))) return err('usage: modify CLUSTER delete MEMBER [force]');
            c.delete(arg, more[0] === 'force');
            return OK;
          case 'suspend':
          case 'resume':
            if (arg === undefined || more.length > 0) return err(`usage: modify CLUSTER ${action} MEMBER`);
            c.setStatus(arg, action === 'suspend' ? 'SUSPENDED' : 'ACTIVE');
            return OK;
          default:
            return err(`unknown modify action '${action ?? ''}' (add, delete, suspend, resume)`);
        }
      } catch (e) {
        if (e instanceof MemberSpecError) return err(`invalid member: ${e.message}`);
        return err((e as Error).message);
      }
    }
    case 'save':
      if (!ctx.save) return err('no config file to save to (started with --config-file=none)');
      try {
        return `${ctx.save()}\n${OK}`;
      } catch (e) {
        return err(`cannot save: ${(e as Error).message}`);
      }
    case undefined:
      return err('empty command');
    default:
      return err(`unknown command '${cmd.slice(0, 64)}' (ls, ls CLUSTER, totals, modify, save)`);
  }
}
