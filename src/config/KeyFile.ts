import { readFileSync } from 'node:fs';
// GLib key-file reader: the format of /etc/rtpengine/rtpengine.conf.
// Sections in [brackets], `key = value` lines, '#' (and ';' at line start) comments.

export class KeyFileError extends Error {}

export type KeyFile = Map<string, Map<string, string>>;

/**
 * Reads and parses a config file. A missing file is null unless it was named explicitly
 * (rtpengine tolerates a missing default file, not a missing explicit one).
 */
export function readKeyFile(path: string, explicit: boolean): KeyFile | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (explicit) throw new KeyFileError(`Cannot read config file '${path}': ${(e as Error).message}`);
    return null;
  }
  return parseKeyFile(text, path);
}

export function parseKeyFile(text: string, source = 'config file'): KeyFile {
  const sections: KeyFile = new Map();
  let current: Map<string, string> | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new KeyFileError(`${source}:${i + 1}: malformed group header '${line}'`);
      const name = line.slice(1, -1).trim();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new KeyFileError(`${source}:${i + 1}: line is not 'key = value': '${line}'`);
    if (!current) throw new KeyFileError(`${source}:${i + 1}: key outside of any [section]: '${line}'`);
    current.set(line.slice(0, eq).trim(), unescapeValue(line.slice(eq + 1).trim()));
  }
  return sections;
}

function unescapeValue(v: string): string {
  return v.replace(/\\([sntr\\])/g, (_m, c: string) => ({ s: ' ', n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}

/** GLib string lists: ';'-separated, trailing separator allowed, '\;' escapes. */
export function splitList(v: string): string[] {
  return v
    .split(/(?<!\\);/)
    .map((s) => s.replace(/\\;/g, ';').trim())
    .filter((s) => s !== '');
}
