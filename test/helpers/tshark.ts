import { spawnSync } from 'node:child_process';

/** Reads a capture file with tshark and returns one array of field values per packet. */
export function tsharkFields(file: string, fields: string[], filter?: string): string[][] {
  const which = spawnSync('which', ['tshark']);
  if (which.status !== 0) throw new Error("tshark is not installed: 'apt-get install -y tshark' (.ci/run does it)");
  const args = ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])];
  if (filter) args.push('-Y', filter);
  const r = spawnSync('tshark', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}
