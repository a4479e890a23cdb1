import { describe, expect, it } from 'vitest';
import { ADDR, clusterPerTest, endCall, failOver, numSessions, reportGap, waitForMedia } from '../helpers/FailoverCluster.js';
import type { AgentSocket } from '../helpers/NetLab.js';
import { sleep, waitFor } from '../helpers/Relay.js';

// Failover that needs no operator action, with ngrelay's DEFAULT ownership settings
// (active-switchover on): the survivor owns the call, the old owner yields when it returns,
// and no record is left behind. Every relay, Redis and phone sits in its own namespace.
describe('ownership moves to the surviving relay', () => {
  const cluster = clusterPerTest();

  it('a re-INVITE handled by the survivor makes it the owner: higher generation, old record removed', async () => {
    const callId = 'own-reinvite';
    const r = await cluster.withCall(callId);
    const relay2 = r.c.relays.relay2!;
    await r.c.holds('relay2', callId);
    const before = r.c.record(1, callId)!;
    const kill = await r.c.kill('relay1');
    // The proxy's re-INVITE reaches the standby before any media does (the address moves after).
    const again = await r.c.setupCall(relay2, callId, r.caller.port, r.callee.port);
    expect(again).toEqual(r.ports);
    expect(await numSessions(relay2)).toMatchObject({ own: 1, foreign: 0 });
    await waitFor('the survivor to write its record and remove the old one', () => r.c.record(2, callId) !== null && r.c.record(1, callId) === null, 3000);
    const after = r.c.record(2, callId)!;
    expect(after['owner']).toBe('relay2');
    expect(after['generation'] as number).toBeGreaterThan(before['generation'] as number);
    r.c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
    await reportGap('re-INVITE to the survivor, then address moved', kill, r.callee, r.caller);
    await endCall(r, 'relay2', callId);
  });

  it('no BYE after failover: the survivor times the call out and frees its ports', async () => {
    const callId = 'own-timeout';
    const r = await cluster.withCall(callId, { args: ['--timeout=2'] });
    const relay2 = r.c.relays.relay2!;
    await r.c.holds('relay2', callId);
    await failOver(r, 'failover, then the call is abandoned');
    // The call's own sockets (RTP and RTCP of both sides); the relay's media workers also keep
    // a few pairs bound ahead of time, which are not the call's.
    const callPorts = [r.ports.callerSide, r.ports.callerSide + 1, r.ports.calleeSide, r.ports.calleeSide + 1].map((p) => `${ADDR.vip1}:${p} `);
    const vipPorts = (): string[] => r.c.lab.run('relay2', 'ss', '-H', '-uln').split('\n').filter((l) => callPorts.some((p) => l.includes(p)));
    expect(vipPorts().length).toBe(4);
    // The phones vanish without a BYE.
    await r.caller.stop();
    await r.callee.stop();
    const stoppedAt = Date.now();
    await waitFor('the survivor to time the call out', async () => (await numSessions(relay2)).total === 0, 10_000, 100);
    console.log(`abandoned call closed by the survivor ${Date.now() - stoppedAt} ms after media stopped (timeout=2)`);
    await waitFor('its ports to be freed', () => vipPorts().length === 0, 3000);
    await waitFor('no key of the call in any DB', () => r.c.allKeys().length === 0, 3000);
  });

  it('an owner restarted in place, whose address then moves to the peer, yields the call through its subscription', async () => {
    const callId = 'own-restart-early';
    const r = await cluster.withCall(callId, { args: ['--timeout=2'] });
    await r.c.holds('relay2', callId);
    // A quick restart (e.g. by systemd) before keepalived moved anything: it restores the call as own.
    const kill = await r.c.kill('relay1');
    const relay1 = await r.c.startRelay('relay1', ['--timeout=2']);
    await reportGap('owner restarted in place (restored from its own DB)', kill, r.callee, r.caller);
    expect(await numSessions(relay1)).toMatchObject({ own: 1, foreign: 0 });
    // keepalived moves the address after all: the peer takes over, the restarted relay must yield.
    const movedAt = Date.now();
    r.c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
    await waitForMedia(r.callee, movedAt);
    await waitForMedia(r.caller, movedAt);
    await waitFor('relay2 to own the call', async () => (await numSessions(r.c.relays.relay2!)).own === 1, 3000);
    await waitFor('relay1 to yield', async () => (await numSessions(relay1)).foreign === 1, 3000);
    await waitFor('only the new owner to have a record', () => r.c.record(1, callId) === null && r.c.record(2, callId) !== null, 3000);
    // Past relay1's timeout, without media there: it must neither time out nor delete the call.
    await sleep(3000);
    expect(await numSessions(relay1)).toMatchObject({ own: 0, foreign: 1 });
    expect(r.c.record(2, callId)).not.toBeNull();
    await waitForMedia(r.callee, Date.now());
    await endCall(r, 'relay2', callId);
  });

  it('the old owner restarted while the survivor carries the call yields: media keeps flowing, nothing lost', async () => {
    const callId = 'own-restart';
    const r = await cluster.withCall(callId, { args: ['--timeout=2'] });
    const relay2 = r.c.relays.relay2!;
    await r.c.holds('relay2', callId);
    await failOver(r, 'failover before the old owner returns');
    await waitFor('the old record to be removed', () => r.c.record(1, callId) === null, 3000);

    const restartedAt = Date.now();
    const relay1 = await r.c.startRelay('relay1', ['--timeout=2']);
    await r.c.holds('relay1', callId);
    expect(await numSessions(relay1)).toMatchObject({ own: 0, foreign: 1 });
    // The restored copy keeps the call's creation time.
    const created = async (relay: typeof relay1): Promise<string | undefined> => /created:\s*(\d+)/.exec(await relay.cli('list sessions all'))?.[1];
    expect(await created(relay1)).toBe(await created(relay2));
    // Longer than the restarted relay's timeout: no media reaches it, yet it must not end the call.
    await sleep(3500);
    expect(await numSessions(relay1)).toMatchObject({ own: 0, foreign: 1 });
    expect(await numSessions(relay2)).toMatchObject({ own: 1, foreign: 0 });
    expect(r.c.record(2, callId)).not.toBeNull();
    expect(r.c.record(1, callId)).toBeNull();
    const lost = (s: AgentSocket): number => {
      const seqs = s.since(restartedAt).map((p) => p.seq!);
      return Math.max(...seqs) - Math.min(...seqs) + 1 - new Set(seqs).size;
    };
    console.log(`after the old owner's restart: ${lost(r.callee)} packets lost to the callee, ${lost(r.caller)} to the caller`);
    expect(lost(r.callee)).toBe(0);
    expect(lost(r.caller)).toBe(0);
    // Its foreign copy goes with the survivor's DEL.
    await endCall(r, 'relay2', callId);
  });
});
