import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall } from '../helpers/MediaCall.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf, type PromSample } from '../helpers/prometheus.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { Relay, runDaemon, waitFor } from '../helpers/Relay.js';

async function scrape(port: number): Promise<{ status: number; contentType: string; samples: PromSample[]; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', samples: parseExposition(text), text };
}

describe('Prometheus metrics on listen-http', () => {
  let relay: Relay;
  let httpPort: number;
  beforeAll(async () => {
    httpPort = await freePort();
    relay = await Relay.start({ args: [`--listen-http=127.0.0.1:${httpPort}`, '--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('gives memory back once signalling goes quiet after a burst, and once only', async () => {
    const releases = async (): Promise<number> => valueOf((await scrape(httpPort)).samples, 'ngrelay_idle_memory_releases_total') ?? -1;
    const before = await releases();
    // A burst of 1,000 requests (the release threshold), 50 in flight.
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 50 }, () => relay.ng.request({ command: 'ping' })));
    await waitFor('a release after 3 s of quiet', async () => (await releases()) === before + 1, 15_000, 250);
    const line = relay.output.split('\n').find((l) => l.includes('signalling quiet: memory released'));
    const logged = JSON.parse(line!) as { requests: number; rssBeforeMb: number; rssAfterMb: number };
    expect(logged.requests).toBeGreaterThanOrEqual(1000);
    expect(logged.rssAfterMb).toBeLessThanOrEqual(logged.rssBeforeMb);
  });

  it('counts a call set up over NG, its media and its end', async () => {
    const before = await scrape(httpPort);
    expect(before.status).toBe(200);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(before.samples, 'ngrelay_ng_commands_total', { command: 'offer', result: 'ok' })).toBe(0);
    expect(valueOf(before.samples, 'ngrelay_ports_free', { interface: 'pub1', address: '127.0.0.1' })).toBe(relay.portMax - relay.portMin + 1);

    const call = await MediaCall.establish(relay);
    call.callerSends(10);
    call.calleeSends(10);
    await call.callee.waitFor(10);
    await call.caller.waitFor(10);

    const during = (await scrape(httpPort)).samples;
    expect(valueOf(during, 'ngrelay_ng_commands_total', { command: 'offer', result: 'ok' })).toBe(1);
    expect(valueOf(during, 'ngrelay_ng_commands_total', { command: 'answer', result: 'ok' })).toBe(1);
    expect(valueOf(during, 'ngrelay_ng_commands_total', { command: 'ping', result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(during, 'ngrelay_internal_errors_total', {})).toBe(0);
    expect(valueOf(during, 'ngrelay_ng_command_duration_seconds_count', { command: 'offer' })).toBe(1);
    expect(valueOf(during, 'rtpengine_requests_total', { proxy: '127.0.0.1', request: 'offer' })).toBe(1);
    expect(valueOf(during, 'rtpengine_sessions', { type: 'own' })).toBe(1);
    expect(valueOf(during, 'rtpengine_sessions', { type: 'foreign' })).toBe(0);
    expect(valueOf(during, 'ngrelay_calls', { type: 'own' })).toBe(1);
    expect(valueOf(during, 'rtpengine_sessions_total')).toBe(1);
    // Both parties' RTP/RTCP pairs are allocated at offer.
    expect(valueOf(during, 'ngrelay_ports_used', { interface: 'pub1', address: '127.0.0.1' })).toBe(4);
    expect(valueOf(during, 'rtpengine_ports_used', { name: 'pub1', address: '127.0.0.1' })).toBe(4);
    expect(valueOf(during, 'rtpengine_packets_total', { type: 'userspace' })).toBeGreaterThanOrEqual(20);
    expect(valueOf(during, 'ngrelay_relayed_packets_total')).toBeGreaterThanOrEqual(20);
    expect(valueOf(during, 'rtpengine_bytes_total', { type: 'userspace' })).toBeGreaterThan(0);
    expect(valueOf(during, 'rtpengine_uptime_seconds')).toBeGreaterThanOrEqual(0);
    expect(valueOf(during, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    await call.delete();
    call.close();
    const after = (await scrape(httpPort)).samples;
    expect(valueOf(after, 'ngrelay_ng_commands_total', { command: 'delete', result: 'ok' })).toBe(1);
    expect(valueOf(after, 'rtpengine_sessions', { type: 'own' })).toBe(0);
    expect(valueOf(after, 'rtpengine_closed_sessions_total', { reason: 'terminated' })).toBe(1);
    expect(valueOf(after, 'ngrelay_calls_closed_total', { reason: 'deleted' })).toBe(1);
    expect(valueOf(after, 'rtpengine_call_duration_total')).toBeGreaterThan(0);
    expect(valueOf(after, 'ngrelay_ports_used', { interface: 'pub1', address: '127.0.0.1' })).toBe(0);
  });

  it('answers any other path or method with 404', async () => {
    for (const path of ['/', '/metrics/', '/metricsx', '/cli/list']) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${path}`);
      await res.text();
      expect(res.status, path).toBe(404);
    }
    const post = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { method: 'POST', body: 'x' });
    await post.text();
    expect(post.status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${httpPort}/metrics?name=x`)).status).toBe(200);
  });

  it("turns NG command names from the wire that it does not implement into 'other'", async () => {
    const before = valueOf((await scrape(httpPort)).samples, 'ngrelay_ng_commands_total', { command: 'other', result: 'error' })!;
    for (const command of ['constructor', '__proto__', 'toString', 'no such command']) {
      const r = await relay.ng.request({ command });
      expect(r, command).toEqual({ result: 'error', 'error-reason': 'Unrecognized command' });
    }
    const { text, samples } = await scrape(httpPort);
    expect(valueOf(samples, 'ngrelay_ng_commands_total', { command: 'other', result: 'error' })).toBe(before + 4);
    for (const w of ['constructor', '__proto__', 'toString', 'no such command']) expect(text).not.toContain(w);
    // The per-proxy table counts rtpengine's commands only, and the errors.
    expect(valueOf(samples, 'rtpengine_errors_total', { proxy: '127.0.0.1' })).toBeGreaterThanOrEqual(4);
  });
});

describe('listen-http off and wrong', () => {
  it('serves nothing unless listen-http is given', async () => {
    const relay = await Relay.start();
    expect(await relay.stop()).toBe(0);
    // Logged at start-up when there is an HTTP listener; the relay runs at log-level 7 here.
    expect(relay.output).toContain('NG listener ready');
    expect(relay.output).not.toContain('HTTP listener');
  });

  it('stops start-up naming the key of a bad value', async () => {
    const { code, output } = await runDaemon(['--config-file=none', '--interface=127.0.0.1', '--listen-http=127.0.0.1:http']);
    expect(code).toBe(1);
    expect(output).toContain("Invalid value for 'listen-http': '127.0.0.1:http'");
  });
});

describe('Prometheus metrics of the Redis store', () => {
  let redis: RedisServer;
  let relay: Relay;
  let httpPort: number;
  beforeAll(async () => {
    redis = await RedisServer.start();
    httpPort = await freePort();
    relay = await Relay.start({ args: [`--listen-http=127.0.0.1:${httpPort}`, `--redis=127.0.0.1:${redis.port}/1`, '--subscribe-keyspace=2', '--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
    await redis.stop();
  });

  it('reports the connection, the write queue, keyspace events and no failures', async () => {
    const first = (await scrape(httpPort)).samples;
    expect(valueOf(first, 'ngrelay_redis_connected')).toBe(1);
    expect(valueOf(first, 'ngrelay_keyspace_events_total', { event: 'sadd' })).toBe(0);

    // A peer's record in the subscribed DB (not a valid one: it is read, logged and skipped).
    await redis.client(2).sadd('metrics-peer-call', 'not a call record');
    await waitFor('the sadd event to be counted', async () =>
      valueOf((await scrape(httpPort)).samples, 'ngrelay_keyspace_events_total', { event: 'sadd' }) === 1);

    const call = await MediaCall.establish(relay);
    await waitFor('the call record in Redis', async () => (await redis.client(1).exists(call.callId)) === 1);
    const written = (await scrape(httpPort)).samples;
    expect(valueOf(written, 'ngrelay_redis_write_queue')).toBe(0);
    expect(valueOf(written, 'ngrelay_redis_write_failures_total')).toBe(0);
    expect(valueOf(written, 'ngrelay_takeovers_total')).toBe(0);
    await call.delete();
    call.close();
  });
});
