import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, Relay } from '../helpers/Relay.js';

// What an operator does with a release: npm pack on a build machine, npm install -g on the
// relay host (no TypeScript, no registry), then the bins on the PATH and the systemd unit.

describe('npm package', () => {
  it('installs globally from its tarball with prebuilt dist/ and runtime libraries, bins on the PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ngrelay-pack-'));
    // dist/ is built by `npm test` (and by prepack in a release build).
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, stdio: 'ignore' });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const prefix = join(dir, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, tgz)], { stdio: 'ignore' });
    const lib = join(prefix, 'lib/node_modules/ngrelay');
    expect(readdirSync(lib)).not.toContain('src.ts');
    expect(() => readFileSync(join(lib, 'node_modules/typescript/package.json'))).toThrow();
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env['PATH']}` };
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    // The man pages go where man finds them: PREFIX/share/man/man8.
    expect(readdirSync(join(prefix, 'share/man/man8')).sort()).toEqual(['ngrelay-balancer.8', 'ngrelay-ctl.8', 'ngrelay.8']);
    const v = spawnSync('ngrelay', ['--version'], { env, encoding: 'utf8' });
    expect(v.stdout).toBe(`Version: ${version} (ngrelay, rtpengine 10.5 compatible)\n`);
    const relay = await Relay.start({});
    try {
      const c = spawnSync('ngrelay-ctl', ['-port', String(relay.cliPort), 'list', 'numsessions'], { env, encoding: 'utf8' });
      expect(c.stdout).toContain('Current sessions total: 0\n');
    } finally {
      await relay.stop();
    }
    // npm pack and a global install of the bundled tarball take tens of seconds on a busy machine.
  }, 240_000);

  it('has a systemd unit that runs the installed bin with its own config and a pidfile', () => {
    const unit = readFileSync(join(ROOT, 'etc/ngrelay.service'), 'utf8');
    // A bare name: systemd looks in /usr/local/bin and /usr/bin, where npm puts it (NodeSource: /usr/bin).
    expect(unit).toMatch(/^ExecStart=ngrelay --config-file=\/etc\/ngrelay\/rtpengine\.conf --foreground --log-stderr --pidfile=\/run\/ngrelay\/ngrelay\.pid$/m);
    expect(readFileSync(join(ROOT, 'etc/ngrelay-balancer.service'), 'utf8')).toMatch(/^ExecStart=ngrelay-balancer --config-file=/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(Object.keys(pkg.bin).sort()).toEqual(['ngrelay', 'ngrelay-balancer', 'ngrelay-ctl']);
    expect(pkg.files).toContain('etc/');
    // Installed without a registry: every runtime library travels in the tarball.
    const full = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bundleDependencies: string[] };
    expect(full.bundleDependencies).toEqual(Object.keys(full.dependencies).sort());
  });
});
