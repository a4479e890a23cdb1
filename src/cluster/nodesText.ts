import type { KnownNode } from './NodeDirectory.js';

/** `list nodes`: one line per node this node knows, itself marked. */
export function nodesText(nodes: KnownNode[], self: string): string {
  if (nodes.length === 0) return 'No nodes known.\n';
  const now = Date.now();
  return nodes
    .map(
      (n) =>
        `node: ${n.id}${n.id === self ? ' (this node)' : ''} | state: ${n.alive ? n.state : 'dead'} | ng: ${n.ng} | media: ${n.media.join(',')}` +
        ` | calls: ${n.calls} | capacity: ${n.capacity < 0 ? 'unlimited' : n.capacity} | heartbeat: ${Math.max(0, Math.round((now - n.seen) / 100) / 10)}s ago | version: ${n.version}\n`,
    )
    .join('');
}
