import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingSettings, RUNTIME_ENV, RUNTIME_FLAGS, shellLauncherLine } from '../../src/bin/runtimeSettings.js';

const ROOT = join(import.meta.dirname, '../..');

describe('runtime settings', () => {
  it('are what the daemon binaries set in their shell line', () => {
    for (const bin of ['src/bin/ngrelay.ts', 'src/bin/ngrelay-balancer.ts']) {
      const [shebang, line] = readFileSync(join(ROOT, bin), 'utf8').split('\n');
      expect(shebang).toBe('#!/bin/sh');
      expect(line).toBe(shellLauncherLine());
    }
    expect(shellLauncherLine()).toBe(
      '//bin/true; exec /usr/bin/env NODE_OPTIONS="--max-semi-space-size=16 --v8-pool-size=1 ${NODE_OPTIONS-}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" node "$0" "$@"',
    );
  });

  it('counts as given whatever value an operator chose, in argv or NODE_OPTIONS, dashes or underscores', () => {
    expect(missingSettings([], {})).toEqual({ flags: [...RUNTIME_FLAGS], env: { ...RUNTIME_ENV } });
    expect(missingSettings(['--v8-pool-size=4'], { NODE_OPTIONS: '--max_semi_space_size=16', MALLOC_ARENA_MAX: '8' })).toEqual({ flags: [], env: {} });
    expect(missingSettings(['--inspect'], { NODE_OPTIONS: '--v8-pool-size=2' })).toEqual({ flags: ['--max-semi-space-size=16'], env: { MALLOC_ARENA_MAX: '2' } });
  });
});
