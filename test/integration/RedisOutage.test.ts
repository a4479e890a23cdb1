import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, logLines, TestCall, waitSessions } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';

/** Call-ids in `list sessions own|foreign`, sorted. */
async function listed(relay: Relay, which: 'own' | 'foreign'): Promise<string[]> {
  const text = await relay.cli(`list sessions ${which}`);
  return [...text.matchAll(/^callid:\s+(\S+) \|/gm)].map((m) => m[1]!).sort();
}

/**
 * Redis killed (SIGKILL) and started again empty while an owner carries 50 calls and a standby
 * holds their copies; calls start and end during the outage.
 */
describe('a Redis restart under load', () => {
  let redis: RedisServer;
  let owner: Relay;
  let standby: Relay;
  const calls = new Map<string, TestCall>();

  beforeAll(async () => {
    redis = await RedisServer.start();
    owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
    standby = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1] });
    for (let i = 0; i < 50; i++) calls.set(`load-${i}`, await TestCall.place(owner, `load-${i}`));
    await waitSessions(standby, { own: 0, foreign: 50 });
  });

  afterAll(async () => {
    for (const c of calls.values()) c.close();
    await owner?.stop();
    await standby?.stop();
    await redis?.stop();
  });

  it('loses no call, keeps answering, and owner and standby agree afterwards', async () => {
    await redis.kill();
    // Signalling goes on while Redis is away: every request is answered (NgClient gives up after 3 s).
    const replyMs: number[] = [];
    const timed = async <T>(work: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const r = await work();
      replyMs.push(performance.now() - t0);
      return r;
    };
    for (let i = 50; i < 60; i++) calls.set(`load-${i}`, await timed(() => TestCall.place(owner, `load-${i}`)));
    for (let i = 0; i < 10; i++) {
      await timed(() => owner.ng.ok({ command: 'delete', 'call-id': `load-${i}`, 'from-tag': `load-${i}-A` }));
      calls.get(`load-${i}`)!.close();
      calls.delete(`load-${i}`);
    }
    await timed(() => calls.get('load-20')!.mediaFlows());
    const expected = [...calls.keys()].sort();
    expect(await listed(owner, 'own')).toEqual(expected);

    const restarted = performance.now();
    await redis.restart();
    const db1 = redis.client(1);
    await waitFor('the owner to write its 50 calls again', async () => (await db1.dbsize()) === 50, 15_000, 100);
    expect((await db1.keys('*')).sort()).toEqual(expected);
    const written = performance.now() - restarted;
    // The standby re-subscribed and read DB 1 again: the 10 new calls are there, the 10 ended ones gone.
    await waitFor('the standby to agree with the owner', async () => JSON.stringify(await listed(standby, 'foreign')) === JSON.stringify(expected), 15_000, 100);
    const agreed = performance.now() - restarted;
    expect(await listed(owner, 'own')).toEqual(expected);
    await waitSessions(standby, { own: 0, foreign: 50 });
    // The copies of the 40 calls that lived on were never dropped, not even while Redis was empty.
    const closed = logLines(standby, 'call closed').map((l) => l['callId'] as string).sort();
    expect(closed).toEqual(Array.from({ length: 10 }, (_, i) => `load-${i}`).sort());
    const sorted = [...replyMs].sort((a, b) => a - b);
    console.log(
      `Redis restart: NG replies during the outage median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
        `owner rewrote its calls ${written.toFixed(0)} ms and the standby agreed ${agreed.toFixed(0)} ms after Redis came back`,
    );

    // Both keep working: an update after the outage reaches the standby.
    await owner.ng.ok({ command: 'delete', 'call-id': 'load-55', 'from-tag': 'load-55-A' });
    await waitSessions(standby, { own: 0, foreign: 49 });
    await calls.get('load-30')!.mediaFlows();
  });
});
