import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { NgMetrics } from '../../src/metrics/NgMetrics.js';
import { NgRequest, type NgDict } from '../../src/ng/NgRequest.js';
import { parseExposition, valueOf } from '../helpers/prometheus.js';

describe('NgMetrics', () => {
  const setup = (reply: NgDict) => {
    const registry = new Registry();
    const metrics = new NgMetrics(registry, ['ping', 'offer', 'start recording']);
    const handler = metrics.observe(() => Promise.resolve({ ...reply }));
    const send = (command: unknown) => handler(new NgRequest({ command } as NgDict, '127.0.0.1:5060'));
    return { registry, send };
  };

  it('labels only known command names; anything else from the wire is "other"', async () => {
    const { registry, send } = setup({ result: 'error', 'error-reason': 'Unrecognized command' });
    const weird = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Offer', 'x'.repeat(500), 'a"b\\c\n'];
    for (const command of weird) await send(command);
    await send(42);
    const text = await registry.metrics();
    for (const w of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Offer', 'xxxx', 'a\\"b']) expect(text).not.toContain(w);
    const samples = parseExposition(text);
    const commandLabels = new Set(samples.filter((s) => s.labels['command'] !== undefined).map((s) => s.labels['command']));
    expect(commandLabels).toEqual(new Set(['ping', 'offer', 'start recording', 'other']));
    expect(valueOf(samples, 'ngrelay_ng_commands_total', { command: 'other', result: 'error' })).toBe(weird.length + 1);
    expect(valueOf(samples, 'ngrelay_ng_command_duration_seconds_count', { command: 'other' })).toBe(weird.length + 1);
  });

  it('counts by the result of the reply, ok and error series present from the start', async () => {
    const fresh = parseExposition(await setup({ result: 'ok' }).registry.metrics());
    expect(valueOf(fresh, 'ngrelay_ng_commands_total', { command: 'offer', result: 'ok' })).toBe(0);
    expect(valueOf(fresh, 'ngrelay_ng_commands_total', { command: 'offer', result: 'error' })).toBe(0);

    const ok = setup({ result: 'pong' });
    await ok.send('ping');
    await ok.send('start recording');
    const okSamples = parseExposition(await ok.registry.metrics());
    expect(valueOf(okSamples, 'ngrelay_ng_commands_total', { command: 'ping', result: 'ok' })).toBe(1);
    expect(valueOf(okSamples, 'ngrelay_ng_commands_total', { command: 'start recording', result: 'ok' })).toBe(1);

    const limited = setup({ result: 'load limit', message: 'Parallel session limit reached' });
    await limited.send('offer');
    expect(valueOf(parseExposition(await limited.registry.metrics()), 'ngrelay_ng_commands_total', { command: 'offer', result: 'load_limit' })).toBe(1);
  });
});
