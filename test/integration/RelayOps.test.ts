import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Relay, runDaemon, sleep } from '../helpers/Relay.js';
import { isUdpBound } from '../helpers/ports.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

// Start-up, configuration and signals (issue 2, item 7).
describe('ngrelay operations', () => {
  it('exits non-zero naming the key and the value of a bad option', async () => {
    const cli = await runDaemon(['--config-file=none', '--interface=127.0.0.1', '--timeout=abc']);
    expect(cli.code).not.toBe(0);
    expect(cli.output).toContain("'timeout'");
    expect(cli.output).toContain("'abc'");

    const dir = mkdtempSync(join(tmpdir(), 'ngrelay-ops-'));
    const file = join(dir, 'rtpengine.conf');
    writeFileSync(file, '[rtpengine]\ninterface = 127.0.0.1\nport-min = lots\n');
    const fromFile = await runDaemon([`--config-file=${file}`]);
    expect(fromFile.code).not.toBe(0);
    expect(fromFile.output).toContain("Invalid value for 'port-min': 'lots'");

    const noIface = await runDaemon(['--config-file=none']);
    expect(noIface.code).not.toBe(0);
    expect(noIface.output).toContain("'interface'");
  });

  it('warns about an unknown key and runs; the command line wins over the file', async () => {
    const relay = await Relay.start({
      configFile: '[rtpengine]\ninterface = pub1/127.0.0.1\ntimeout = 10\ndelete-delay = 7\nmax-sessions = 3\nno-such-key = 1\n',
      args: ['--timeout=20'],
    });
    try {
      expect(relay.output).toMatch(/Unknown key 'no-such-key'/);
      expect(await relay.cli('list timeout')).toBe('TIMEOUT=20\n');
      expect(await relay.cli('list deletedelay')).toBe('7\n');
      expect(await relay.cli('list maxsessions')).toBe('Maximum sessions configured on rtpengine: 3\n');
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });

  it('writes its pidfile, survives SIGUSR1/SIGUSR2, and on SIGTERM closes everything, removes the pidfile and exits 0', async () => {
    const pidfile = join(mkdtempSync(join(tmpdir(), 'ngrelay-pid-')), 'ngrelay.pid');
    const relay = await Relay.start({ args: [`--pidfile=${pidfile}`] });
    let stopped = false;
    try {
      expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(relay.pid));
      const r = await relay.ng.ok({ command: 'offer', sdp: audioSdp('127.0.0.2', 45000), 'call-id': 'sig', 'from-tag': 'A' });
      const port = readSdp(r['sdp'] as string).medias[0]!.port;
      expect(await isUdpBound('127.0.0.1', port)).toBe(true);

      process.kill(relay.pid, 'SIGUSR1');
      process.kill(relay.pid, 'SIGUSR2');
      await sleep(200);
      expect(relay.proc.exitCode).toBeNull();
      expect((await relay.ng.request({ command: 'ping' }))['result']).toBe('pong');

      expect(await relay.stop('SIGTERM')).toBe(0);
      stopped = true;
      expect(existsSync(pidfile)).toBe(false);
      for (const p of [port, port + 1, relay.ngPort]) expect(await isUdpBound('127.0.0.1', p)).toBe(false);
      expect(await tcpOpen(relay.cliPort)).toBe(false);
    } finally {
      if (!stopped) await relay.stop();
    }
  });

  it('starts with the shipped etc/rtpengine.conf (ports moved off the defaults)', async () => {
    const shipped = readFileSync(join(import.meta.dirname, '../../etc/rtpengine.conf'), 'utf8');
    const relay = await Relay.start({ configFile: shipped });
    try {
      expect(await relay.cli('list numsessions')).toContain('Current sessions own: 0\n');
      expect(relay.output).not.toMatch(/Unknown key/);
    } finally {
      expect(await relay.stop()).toBe(0);
    }
  });
});
