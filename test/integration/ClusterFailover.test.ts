import { afterEach, describe, expect, it } from 'vitest';
import { ADDR, FailoverCluster, mediaGap, numSessions, waitForMedia } from '../helpers/FailoverCluster.js';
import { waitFor } from '../helpers/Relay.js';

// In-call failover the way operators run it (docs/cluster.md): relays, Redis and phones each in
// a network namespace on one bridge, the owner SIGKILLed and its VIP moved to the standby.
describe('in-call failover between two relays in network namespaces', () => {
  let cluster: FailoverCluster | null = null;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(cluster?.logs());
    await cluster?.close();
    cluster = null;
  });

  it('keeps RTP flowing both ways through the standby after the owner dies, and a delete there ends the call', async () => {
    const c = (cluster = await FailoverCluster.create());
    const relay1 = await c.startRelay('relay1');
    const relay2 = await c.startRelay('relay2');
    const caller = await c.caller.socket(ADDR.caller);
    const callee = await c.callee.socket(ADDR.callee);
    const callId = 'failover-basic';
    const ports = await c.setupCall(relay1, callId, caller.port, callee.port);
    await caller.stream(ADDR.vip1, ports.callerSide, 0x1111);
    await callee.stream(ADDR.vip1, ports.calleeSide, 0x2222);
    const t0 = Date.now();
    await waitForMedia(callee, t0);
    await waitForMedia(caller, t0);
    await c.holds('relay2', callId);
    expect(await numSessions(relay2)).toMatchObject({ own: 0, foreign: 1 });

    const kill = await c.kill('relay1');
    c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
    await waitForMedia(callee, kill.deadAt);
    await waitForMedia(caller, kill.deadAt);
    const toCallee = mediaGap(callee, kill)!;
    const toCaller = mediaGap(caller, kill)!;
    console.log(`failover (standby running, address moved at once): media gap caller->callee ${toCallee.gapMs} ms, callee->caller ${toCaller.gapMs} ms`);
    // Through the survivor, still from the VIP ports the phones know.
    expect(toCallee.first).toMatchObject({ address: ADDR.vip1, port: ports.calleeSide });
    expect(toCaller.first).toMatchObject({ address: ADDR.vip1, port: ports.callerSide });
    await waitFor('relay2 to own the call', async () => (await numSessions(relay2)).own === 1, 3000);

    await caller.stop();
    await callee.stop();
    const del = await relay2.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'caller-tag' });
    expect(del['result']).toBe('ok');
    await waitFor('the call to leave relay2', async () => (await numSessions(relay2)).total === 0, 3000);
    await waitFor('no key of the call in any DB', () => [...c.keys(1), ...c.keys(2)].length === 0, 3000);
  });
});
