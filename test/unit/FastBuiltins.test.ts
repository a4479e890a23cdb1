import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/Relay.js';

/** Runs `body` in a fresh Node with V8's introspection built-ins; `fast(o)` says whether o is a fast object. */
function inFreshNode(body: string): unknown {
  const script = `const fast = (o) => %HasFastProperties(o);\n${body}`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

const built = (path: string): string => pathToFileURL(join(ROOT, 'dist/src', path)).href;

describe('builtin prototypes', () => {
  it('a class extending String leaves String.prototype slow until keepBuiltinPrototypesFast runs', () => {
    const r = inFreshNode(`
      const { keepBuiltinPrototypesFast } = await import(${JSON.stringify(built('fastBuiltins.js'))});
      const before = fast(String.prototype);
      class Verbatim extends String {}
      const declared = fast(String.prototype);
      keepBuiltinPrototypesFast();
      console.log(JSON.stringify([before, declared, fast(String.prototype), typeof Verbatim]));`);
    expect(r).toEqual([true, false, true, 'function']);
  });

  it('are fast once the relay and the balancer have loaded every module they use', () => {
    const r = inFreshNode(`
      const { keepBuiltinPrototypesFast } = await import(${JSON.stringify(built('fastBuiltins.js'))});
      await import(${JSON.stringify(built('main.js'))});
      await import(${JSON.stringify(built('balancer/main.js'))});
      await import(${JSON.stringify(built('media/transforms/DtlsEndpoint.js'))});
      keepBuiltinPrototypesFast();
      console.log(JSON.stringify([String.prototype, Array.prototype, Object.prototype, Function.prototype, Number.prototype].map(fast)));`);
    expect(r).toEqual([true, true, true, true, true]);
  });
});
