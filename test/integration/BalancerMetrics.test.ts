import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../helpers/Balancer.js';
import { freePort } from '../helpers/ports.js';
import { parseExposition, valueOf, type PromSample } from '../helpers/prometheus.js';
import { ROOT, Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

// ngrelay-balancer's Prometheus metrics on its own listen-http, in front of one real relay and
// one address where nothing answers.

let relay: Relay;
let balancer: Balancer;
let httpPort: number;

beforeAll(async () => {
  relay = await Relay.start({ args: ['--delete-delay=0'] });
  const silent = await freePort();
  httpPort = await freePort();
  balancer = await Balancer.start({
    members: [
      { name: 'a', address: `127.0.0.1:${relay.ngPort}` },
      { name: 'gone', address: `127.0.0.1:${silent}`, weight: 0 },
    ],
    args: [`--listen-http=127.0.0.1:${httpPort}`],
  });
});

afterAll(async () => {
  await balancer?.stop();
  await relay?.stop();
});

async function scrape(): Promise<PromSample[]> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await res.text());
}

describe('ngrelay-balancer metrics', () => {
  it('counts commands by member and result, times them, and shows member health and the calls mapped', async () => {
    const at = { cluster: 'default' };
    await balancer.ng.ok({ command: 'offer', 'call-id': 'm1', 'from-tag': 'ft', sdp: audioSdp('127.0.0.5', 4000) });
    await balancer.ng.ok({ command: 'answer', 'call-id': 'm1', 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('127.0.0.6', 5000) });
    let s = await scrape();
    expect(valueOf(s, 'ngrelay_balancer_calls', at)).toBe(1);
    expect(valueOf(s, 'ngrelay_balancer_member_calls', { ...at, member: 'a' })).toBe(1);
    await balancer.ng.ok({ command: 'delete', 'call-id': 'm1', 'from-tag': 'ft' });
    // The member's own error, passed on; the balancer's own answer.
    expect((await balancer.ng.request({ command: 'answer', 'call-id': 'nope', 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('127.0.0.6', 5000) }))['result']).toBe('error');
    await balancer.ng.ok({ command: 'ping' });
    s = await scrape();
    expect(valueOf(s, 'ngrelay_balancer_commands_total', { ...at, member: 'a', result: 'ok' })).toBe(3);
    expect(valueOf(s, 'ngrelay_balancer_commands_total', { ...at, member: 'a', result: 'error' })).toBe(1);
    expect(valueOf(s, 'ngrelay_balancer_commands_total', { ...at, member: '-', result: 'ok' })).toBe(1);
    expect(valueOf(s, 'ngrelay_balancer_commands_total', { ...at, member: 'gone', result: 'ok' })).toBe(0);
    expect(valueOf(s, 'ngrelay_balancer_command_duration_seconds_count', at)).toBe(5);
    expect(valueOf(s, 'ngrelay_balancer_command_duration_seconds_bucket', { ...at, le: '+Inf' })).toBe(5);
    expect(valueOf(s, 'ngrelay_balancer_command_duration_seconds_bucket', { ...at, le: '1' })).toBe(5);
    expect(valueOf(s, 'ngrelay_balancer_calls', at)).toBe(0);
    expect(valueOf(s, 'ngrelay_balancer_member_up', { ...at, member: 'a' })).toBe(1);
    expect(valueOf(s, 'ngrelay_balancer_member_up', { ...at, member: 'gone' })).toBe(0);
    expect(valueOf(s, 'ngrelay_balancer_member_placed_total', { ...at, member: 'a' })).toBe(1);
    expect(valueOf(s, 'ngrelay_balancer_member_ping_seconds', { ...at, member: 'a' })).toBeGreaterThan(0);
    expect(valueOf(s, 'ngrelay_balancer_member_ping_seconds', { ...at, member: 'gone' })).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${httpPort}/other`)).status).toBe(404);
    // The shipped Grafana dashboard asks only for series the balancer serves.
    const dashboard = readFileSync(`${ROOT}/etc/grafana-ngrelay-balancer.json`, 'utf8');
    const asked = new Set([...dashboard.matchAll(/ngrelay_balancer_[a-z_]+/g)].map((m) => m[0]));
    const served = new Set(s.map((x) => x.name));
    expect([...asked].filter((n) => !served.has(n))).toEqual([]);
  });
});
