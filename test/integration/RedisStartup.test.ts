import { describe, expect, it } from 'vitest';
import { clusterRelay, logLines, TestCall, waitSessions } from '../helpers/cluster.js';
import { freePort } from '../helpers/ports.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, runDaemon, waitFor } from '../helpers/Relay.js';

const PW = 'S3cret-pw-4711';
const base = ['--config-file=none', '--interface=pub1/127.0.0.1', '--log-stderr'];

describe('Redis at start-up', () => {
  it('a wrong password stops start-up with a clear message, never printing the password', async () => {
    const redis = await RedisServer.start({ password: PW });
    try {
      const r = await runDaemon([...base, `--redis=wrong-${PW}@127.0.0.1:${redis.port}/1`]);
      expect(r.code).not.toBe(0);
      expect(r.output).toContain(`Redis authentication failed for ***@127.0.0.1:${redis.port}/1`);
      expect(r.output).not.toContain(PW);
      // Without any password the server refuses too.
      const none = await runDaemon([...base, `--redis=127.0.0.1:${redis.port}/1`, '--no-redis-required']);
      expect(none.code).not.toBe(0);
      expect(none.output).toContain('Redis authentication failed');
    } finally {
      await redis.stop();
    }
  });

  it('RTPENGINE_REDIS_AUTH_PW supplies the password', async () => {
    const redis = await RedisServer.start({ password: PW });
    const relay = await clusterRelay(redis, 1, { env: { RTPENGINE_REDIS_AUTH_PW: PW } });
    const call = await TestCall.place(relay, 'env-pw');
    try {
      expect(await redis.client(1, PW).exists('env-pw')).toBe(1);
      expect(relay.output).not.toContain(PW);
    } finally {
      call.close();
      await relay.stop();
      await redis.stop();
    }
  });

  // Both wait rtpengine's 10 s for Redis, so they run side by side.
  it('an unreachable Redis stops start-up with a clear message, or, with no-redis-required, the calls are written once it appears', async () => {
    const [gone, late] = [await freePort(), await freePort()];
    const refused = runDaemon([...base, `--redis=127.0.0.1:${gone}/1`], {}, 20_000);
    const [relay, standby] = await Promise.all([
      Relay.start({ args: [`--redis=127.0.0.1:${late}/1`, '--no-redis-required', '--delete-delay=0'] }),
      // A standby whose keyspace could not be subscribed at start-up subscribes once Redis is there.
      Relay.start({ interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], args: [`--redis=127.0.0.1:${late}/2`, '--subscribe-keyspace=1', '--no-redis-required'] }),
    ]);
    const call = await TestCall.place(relay, 'late-redis');
    const redis = await RedisServer.start({ port: late });
    try {
      const r = await refused;
      expect(r.code).not.toBe(0);
      expect(r.output).toContain(`Cannot start up without running Redis at 127.0.0.1:${gone}/1: connect ECONNREFUSED`);
      await call.mediaFlows();
      await waitFor('the call to be written after Redis appeared', async () => (await redis.client(1).exists('late-redis')) === 1);
      await waitSessions(standby, { own: 0, foreign: 1 });
      expect(await standby.cli('kslist')).toBe('\nSubscribed-on keyspaces:\n1 \n');
    } finally {
      call.close();
      await relay.stop();
      await standby.stop();
      await redis.stop();
    }
  });

  it('warns when notify-keyspace-events cannot deliver what a subscriber needs', async () => {
    const redis = await RedisServer.start({ notify: 'Kg' });
    const relay = await clusterRelay(redis, 2, { subscribe: [1] });
    try {
      const warning = logLines(relay, "Redis 'notify-keyspace-events' lacks")[0];
      expect(warning).toMatchObject({ level: 40, 'notify-keyspace-events': 'gK' });
    } finally {
      await relay.stop();
      await redis.stop();
    }
  });
});

describe('corrupt call records', () => {
  it('are logged and skipped at restore and on notification, never deleted', async () => {
    const redis = await RedisServer.start();
    const owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    const call = await TestCall.place(owner, 'good');
    let standby: Relay | null = null;
    try {
      const db1 = redis.client(1);
      const db2 = redis.client(2);
      const [good] = await db1.smembers('good');
      const rec = JSON.parse(good!) as { version: number; callId: string; parties: { medias: { streams: { port: number }[] }[] }[] };
      const variant = (id: string, change: (r: typeof rec) => void): string => {
        const r = JSON.parse(good!) as typeof rec;
        r.callId = id;
        change(r);
        return JSON.stringify(r);
      };
      const corrupt = (prefix: string): Record<string, string> => ({
        [`${prefix}-json`]: '{"version":1,"callId":',
        [`${prefix}-version`]: variant(`${prefix}-version`, (r) => (r.version = 99)),
        [`${prefix}-port`]: variant(`${prefix}-port`, (r) => (r.parties[0]!.medias[0]!.streams[0]!.port = 70000)),
      });
      const atStart = corrupt('bad-start');
      for (const [k, v] of Object.entries(atStart)) await db1.sadd(k, v);
      // The standby's own DB holds a corrupt record too: restored as own, skipped the same way.
      await db2.sadd('bad-own', '[]');
      standby = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1] });
      await waitSessions(standby, { own: 0, foreign: 1 });
      const running = corrupt('bad-event');
      for (const [k, v] of Object.entries(running)) await db1.sadd(k, v);
      const skipped = (): Record<string, unknown>[] => logLines(standby!, 'Skipping corrupt call record in Redis');
      await waitFor('every corrupt record to be reported', () => skipped().length === 7);
      const reasons = Object.fromEntries(skipped().map((l) => [l['key'], l['err']]));
      for (const prefix of ['bad-start', 'bad-event']) {
        expect(reasons[`${prefix}-json`]).toBe('not JSON');
        expect(reasons[`${prefix}-version`]).toBe('unknown record version 99');
        expect(reasons[`${prefix}-port`]).toBe('stream port 70000 out of range');
      }
      expect(reasons['bad-own']).toBe('not an object');
      expect(await db1.exists(...Object.keys(atStart), ...Object.keys(running))).toBe(6);
      expect(await db2.exists('bad-own')).toBe(1);
      await waitSessions(standby, { own: 0, foreign: 1 });
      // The relay is still fine.
      await call.mediaFlows();
      expect((await standby.ng.ok({ command: 'ping' }))['result']).toBe('pong');
    } finally {
      call.close();
      await owner.stop();
      await standby?.stop();
      await redis.stop();
    }
  });
});
