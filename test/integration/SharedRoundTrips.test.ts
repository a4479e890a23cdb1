import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../helpers/RedisServer.js';
import { sleep, type Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';
import { sharedNode } from '../helpers/SharedNodes.js';

// What each NG command costs the shared keyspace, read from Redis's own INFO commandstats.
// Scripts' inner commands count there too: each call script (claim, write, release) runs
// exactly one HMGET, so the HMGETs a node sent itself are HMGETs less scripts (EVAL or EVALSHA).

let redis: RedisServer;
let a: Relay;
let b: Relay;
let probe: ReturnType<RedisServer['client']>;

beforeAll(async () => {
  redis = await RedisServer.start();
  // A slow heartbeat: no lease or directory traffic inside a measured command.
  const args = ['--heartbeat-interval=60000'];
  probe = redis.client(0);
  [a, b] = await Promise.all([
    sharedNode({ redis: `127.0.0.1:${redis.port}/0`, address: '127.0.3.1', args }),
    sharedNode({ redis: `127.0.0.1:${redis.port}/0`, address: '127.0.3.2', args }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await redis?.stop();
});

async function commandstats(): Promise<Map<string, number>> {
  const text = await probe.info('commandstats');
  const m = new Map<string, number>();
  for (const [, name, calls] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (name !== 'info') m.set(name!, Number(calls));
  return m;
}

/** The counts once they stopped moving: write-behind work of earlier commands has landed. */
async function settled(): Promise<Map<string, number>> {
  let last = await commandstats();
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const again = await commandstats();
    if ([...again].every(([k, v]) => last.get(k) === v)) break;
    last = again;
  }
  return last;
}

/** The commands Redis ran for `act`, the write-behind work it caused included. */
async function cost(act: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await settled();
  await act();
  const after = await settled();
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) d[k] = v - (before.get(k) ?? 0);
  // What the node sent itself: the scripts' inner commands taken out.
  // A heartbeat that falls into the window anyway: its lease script is the only one that runs GET.
  const scripts = (d['evalsha'] ?? 0) + (d['eval'] ?? 0) - (d['get'] ?? 0);
  const sent: Record<string, number> = scripts > 0 ? { script: scripts } : {};
  for (const k of ['sadd', 'srem', 'hmget', 'hget', 'exists']) {
    const n = (d[k] ?? 0) - (k === 'hmget' ? scripts : 0);
    if (n > 0) sent[k] = n;
  }
  return sent;
}

describe('shared keyspace: Redis commands per NG command', () => {
  it('offer, answer, delete at the owner and through a non-owner: one claim, one release, record writes behind, one lookup per forward', async () => {
    const offer = (r: Relay, id: string): Promise<unknown> => r.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'ft', sdp: audioSdp('10.9.0.1', 4000) });
    const answer = (r: Relay, id: string): Promise<unknown> => r.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': 'ft', 'to-tag': 'tt', sdp: audioSdp('10.9.0.2', 5000) });
    const del = (r: Relay, id: string): Promise<unknown> => r.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'ft' });
    // Once, so that the server knows every script (a first run sends its text after NOSCRIPT).
    await offer(a, 'rt-0');
    await answer(b, 'rt-0');
    await del(b, 'rt-0');
    // The claim names the owner when there is one: no lookup before it. Then the index entry and the record.
    expect(await cost(() => offer(a, 'rt-1'))).toEqual({ script: 2, sadd: 1 });
    expect(await cost(() => answer(a, 'rt-1'))).toEqual({ script: 1 });
    expect(await cost(() => del(a, 'rt-1'))).toEqual({ script: 1, srem: 1 });
    await offer(a, 'rt-2');
    // Through b: one owner lookup there, the owner's record write.
    expect(await cost(() => answer(b, 'rt-2'))).toEqual({ script: 1, hmget: 1 });
    expect(await cost(() => del(b, 'rt-2'))).toEqual({ script: 1, hmget: 1, srem: 1 });
    // A re-INVITE's offer through b: the claim attempt answers with the owner.
    await offer(a, 'rt-3');
    expect(await cost(() => offer(b, 'rt-3'))).toEqual({ script: 2 });
    await del(a, 'rt-3');
  });
});
