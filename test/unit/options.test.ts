import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/options.js';

function confFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ngrelay-opt-')), 'rtpengine.conf');
  writeFileSync(file, text);
  return file;
}

const noFile = ['--config-file=none', '--interface=127.0.0.1'];

describe('loadConfig', () => {
  it('gives rtpengine defaults with --config-file=none', () => {
    const { config, warnings, configFile } = loadConfig(noFile, {});
    expect(configFile).toBeNull();
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      listenNg: { host: '127.0.0.1', port: 22222 },
      listenCli: { host: '127.0.0.1', port: 9900 },
      portMin: 30000,
      portMax: 40000,
      timeout: 60,
      silentTimeout: 3600,
      offerTimeout: 3600,
      finalTimeout: 0,
      deleteDelay: 30,
      maxSessions: -1,
      maxTranscodedMedia: -1,
      foreground: false,
      logLevel: 6,
      logStderr: false,
      subscribeKeyspace: [],
      redisExpires: 86400,
      endpointLearning: 'delayed',
      recordingMethod: 'pcap',
      recordingFormat: 'raw',
    });
    expect(config.redis).toBeUndefined();
    expect(config.pidfile).toBeUndefined();
    expect(config.listenHttp).toBeUndefined();
  });

  it('takes listen-http as [IP:]PORT, on 127.0.0.1 when only a port is given', () => {
    expect(loadConfig([...noFile, '--listen-http=9103'], {}).config.listenHttp).toEqual({ host: '127.0.0.1', port: 9103 });
    expect(loadConfig([...noFile, '--listen-http=[::1]:9103'], {}).config.listenHttp).toEqual({ host: '::1', port: 9103 });
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\nlisten-http = 0.0.0.0:9103\n');
    expect(loadConfig([`--config-file=${file}`], {}).config.listenHttp).toEqual({ host: '0.0.0.0', port: 9103 });
  });

  it('takes dtmf-log-dest as IP:PORT from the command line or the file (off when not given)', () => {
    expect(loadConfig(noFile, {}).config.dtmfLogDest).toBeUndefined();
    expect(loadConfig([...noFile, '--dtmf-log-dest=127.0.0.1:5566'], {}).config.dtmfLogDest).toEqual({ host: '127.0.0.1', port: 5566 });
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\ndtmf-log-dest = [::1]:5566\n');
    const { config, warnings } = loadConfig([`--config-file=${file}`], {});
    expect(config.dtmfLogDest).toEqual({ host: '::1', port: 5566 });
    expect(warnings.join('\n')).not.toContain('dtmf-log-dest');
    expect(() => loadConfig([...noFile, '--dtmf-log-dest=5566'], {})).toThrow("Invalid value for 'dtmf-log-dest': '5566'");
  });

  it('reads the file section, with ";" lists and booleans', () => {
    const file = confFile(['[rtpengine]', 'interface = pub/127.0.0.1;priv/127.0.0.2!192.0.2.2;', 'listen-ng = 127.0.0.1:22222',
      'foreground = true', 'log-stderr = false', 'redis = 127.0.0.1:6379/1', 'subscribe-keyspace = 2;3', 'timeout = 10'].join('\n'));
    const { config, configFile } = loadConfig([`--config-file=${file}`], {});
    expect(configFile).toBe(file);
    expect(config.interfaces.map((i) => `${i.name}/${i.address}!${i.advertised}`)).toEqual(['pub/127.0.0.1!127.0.0.1', 'priv/127.0.0.2!192.0.2.2']);
    expect(config.listenNg).toEqual({ host: '127.0.0.1', port: 22222 });
    expect(config.foreground).toBe(true);
    expect(config.logStderr).toBe(false);
    expect(config.redis).toMatchObject({ host: '127.0.0.1', port: 6379, db: 1 });
    expect(config.subscribeKeyspace).toEqual([2, 3]);
    expect(config.timeout).toBe(10);
  });

  it('lets the command line win over the file, lists included', () => {
    const file = confFile('[rtpengine]\ninterface = pub/127.0.0.1\ntimeout = 10\ndelete-delay = 5\n');
    const { config } = loadConfig([`--config-file=${file}`, '--timeout=20', '-i', 'a/127.0.0.3', '-i', 'b/::1'], {});
    expect(config.timeout).toBe(20);
    expect(config.deleteDelay).toBe(5);
    expect(config.interfaces.map((i) => i.name)).toEqual(['a', 'b']);
    expect(config.interfaces[1]!.family).toBe(6);
  });

  it('accepts ";" lists on the command line too, and short options', () => {
    const { config } = loadConfig(['--config-file=none', '--interface=a/127.0.0.1;b/127.0.0.2', '-o', '9', '-d', '0', '-f', '-E', '-L', '7'], {});
    expect(config.interfaces.map((i) => i.name)).toEqual(['a', 'b']);
    expect(config).toMatchObject({ timeout: 9, deleteDelay: 0, foreground: true, logStderr: true, logLevel: 7 });
  });

  it('reads another section with --config-section', () => {
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\n[edge]\ninterface = edge/127.0.0.9\n');
    expect(loadConfig([`--config-file=${file}`, '--config-section=edge'], {}).config.interfaces[0]!.name).toBe('edge');
  });

  it('warns about an unknown key in the file, naming it, and carries on', () => {
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\nno-such-option = 1\n');
    const { warnings } = loadConfig([`--config-file=${file}`], {});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("'no-such-option'");
  });

  it('stops with a ConfigError naming the key and the value for a bad value', () => {
    const bad: [string[], string, string][] = [
      [['--timeout=abc'], 'timeout', 'abc'],
      [['--port-min=70000'], 'port-min', '70000'],
      [['--log-level=9'], 'log-level', '9'],
      [['--listen-ng=nowhere:x'], 'listen-ng', 'nowhere:x'],
      [['--listen-http=127.0.0.1:99999'], 'listen-http', '127.0.0.1:99999'],
      [['--interface=pub/not-an-ip'], 'interface', 'pub/not-an-ip'],
      [['--redis=127.0.0.1:6379'], 'redis', '127.0.0.1:6379'],
      [['--endpoint-learning=sometimes'], 'endpoint-learning', 'sometimes'],
      [['--subscribe-keyspace=x', '--redis=127.0.0.1:6379/1'], 'subscribe-keyspace', 'x'],
      [['--dtls-cert-cipher=DSA'], 'dtls-cert-cipher', 'DSA'],
      [['--dtls-signature=md5'], 'dtls-signature', 'md5'],
      [['--dtls-rsa-key-size=512'], 'dtls-rsa-key-size', '512'],
    ];
    for (const [args, key, value] of bad) {
      const base = args.some((a) => a.startsWith('--interface')) ? ['--config-file=none'] : noFile;
      let err: unknown;
      try {
        loadConfig([...base, ...args], {});
      } catch (e) {
        err = e;
      }
      expect(err, key).toBeInstanceOf(ConfigError);
      expect((err as Error).message, key).toContain(`'${key}'`);
      expect((err as Error).message, key).toContain(`'${value}'`);
    }
  });

  it("takes the DTLS certificate options in rtpengine's spellings, from the file and the command line", () => {
    expect(loadConfig(noFile, {}).config.dtlsCertificate).toEqual({ keyType: 'prime256v1', rsaBits: 2048, signature: 'sha-256' });
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\ndtls-cert-cipher = RSA\ndtls-rsa-key-size = 4096\ndtls-signature = SHA1\n');
    expect(loadConfig([`--config-file=${file}`], {}).config.dtlsCertificate).toEqual({ keyType: 'rsa', rsaBits: 4096, signature: 'sha-1' });
    expect(loadConfig([`--config-file=${file}`, '--dtls-cert-cipher=EC-prime256v1', '--dtls-signature=sha-256'], {}).config.dtlsCertificate)
      .toEqual({ keyType: 'prime256v1', rsaBits: 4096, signature: 'sha-256' });
    expect(loadConfig([...noFile, '--dtls-cert-cipher=ec_prime256v1'], {}).warnings).toEqual([]);
  });

  it('names the key of a bad boolean in the file', () => {
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\nforeground = maybe\n');
    expect(() => loadConfig([`--config-file=${file}`], {})).toThrow("Invalid value for 'foreground': 'maybe' is not true or false");
  });

  it('refuses port-max below port-min, no interface, an unreadable explicit file and unknown command-line options', () => {
    expect(() => loadConfig([...noFile, '--port-min=40000', '--port-max=30000'], {})).toThrow(/'port-max'/);
    expect(() => loadConfig(['--config-file=none'], {})).toThrow(/'interface'/);
    expect(() => loadConfig(['--config-file=/nonexistent/rtpengine.conf', '--interface=127.0.0.1'], {})).toThrow(ConfigError);
    expect(() => loadConfig([...noFile, '--no-such-flag'], {})).toThrow(ConfigError);
  });

  it('needs redis for subscribe-keyspace and takes the Redis password from the environment', () => {
    expect(() => loadConfig([...noFile, '--subscribe-keyspace=2'], {})).toThrow(/'subscribe-keyspace'/);
    const { config } = loadConfig([...noFile, '--redis=127.0.0.1:6379/1', '--redis-write=127.0.0.1:6380/1'], {
      RTPENGINE_REDIS_AUTH_PW: 'r', RTPENGINE_REDIS_WRITE_AUTH_PW: 'w',
    });
    expect(config.redis!.password).toBe('r');
    expect(config.redisWrite!.password).toBe('w');
  });

  it('takes drain = yes|no in shared mode only (off by default)', () => {
    const shared = ['--cluster-mode=shared', '--redis=127.0.0.1:6379/0'];
    expect(loadConfig([...noFile, ...shared], {}).config.drain).toBe(false);
    const file = confFile('[rtpengine]\ninterface = 127.0.0.1\ndrain = yes\n');
    expect(loadConfig([`--config-file=${file}`, ...shared], {}).config.drain).toBe(true);
    expect(() => loadConfig([`--config-file=${file}`], {})).toThrow("Invalid value for 'drain': draining needs cluster-mode=shared");
  });
});
