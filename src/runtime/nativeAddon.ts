import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The relay's small native parts (`npm run build` puts them in dist/native). Each is optional:
 * a relay built without a compiler or a library runs without what that part gives.
 */
const DIRS = [
  // dist/src/runtime/ → dist/native (the built relay, installed or not)
  join(import.meta.dirname, '../../native'),
  // src/runtime/ → dist/native (sources run directly, as the tests do)
  join(import.meta.dirname, '../../dist/native'),
];

const loaded = new Map<string, unknown>();
const require = createRequire(import.meta.url);

/** The addon `<name>.node`, or null when it was not built. Loaded once per thread. */
export function loadAddon<T>(name: string): T | null {
  if (loaded.has(name)) return loaded.get(name) as T | null;
  const path = DIRS.map((d) => join(d, `${name}.node`)).find((p) => existsSync(p));
  const addon = path ? (require(path) as T) : null;
  loaded.set(name, addon);
  return addon;
}
