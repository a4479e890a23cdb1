import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ClusterSpec } from './BalancerConfig.js';
import { formatMemberSpec } from './MemberSpec.js';
import { formatClusterSections } from './options.js';

/**
 * Writes the clusters as they are now back into the config file: sections other than
 * `[cluster NAME]` stay as they were, word for word; the cluster sections are rewritten (their
 * comments are not kept). Written to a temporary file and renamed, so a crash leaves the old file.
 */
export function saveClusters(file: string, clusters: ClusterSpec[]): string {
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    /* a new file */
  }
  const kept: string[] = [];
  let inCluster = false;
  for (const line of old.split(/\r?\n/)) {
    const t = line.trim();
    if (t.startsWith('[') && t.endsWith(']')) inCluster = t.slice(1, -1).trim().startsWith('cluster ');
    if (!inCluster) kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  const text = `${kept.join('\n')}\n\n${formatClusterSections(clusters, (m) => formatMemberSpec(m, false))}`;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return `saved to ${file}`;
}
