import { describe, expect, it } from 'vitest';
import { ADDR, clusterPerTest, endCall, failOver, numSessions, waitForMedia, type RunningCall } from '../helpers/FailoverCluster.js';
import type { AgentSocket } from '../helpers/NetLab.js';
import { waitFor } from '../helpers/Relay.js';

// In-call failover the way operators run it (docs/cluster.md): relays, Redis and phones each in
// a network namespace on one bridge, the owner SIGKILLed and its VIP moved to the standby at once.
// Default ownership settings throughout (active-switchover on).
describe('in-call failover between relays in network namespaces', () => {
  const cluster = clusterPerTest();

  it('keeps RTP flowing both ways through the standby after the owner dies, and a delete there ends the call', async () => {
    const callId = 'failover-basic';
    const r = await cluster.withCall(callId);
    const relay2 = r.c.relays.relay2!;
    await r.c.holds('relay2', callId);
    expect(await numSessions(relay2)).toMatchObject({ own: 0, foreign: 1 });
    // ip_nonlocal_bind: the standby holds the call's sockets on VIP1 before the address is there.
    const bound = r.c.lab.run('relay2', 'ss', '-H', '-uln');
    expect(bound).toContain(`${ADDR.vip1}:${r.ports.callerSide} `);
    expect(bound).toContain(`${ADDR.vip1}:${r.ports.calleeSide} `);

    const gap = await failOver(r, 'standby running before the call');
    // Through the survivor, still from the VIP ports the phones know.
    expect(gap.toCallee).toMatchObject({ address: ADDR.vip1, port: r.ports.calleeSide });
    expect(gap.toCaller).toMatchObject({ address: ADDR.vip1, port: r.ports.callerSide });
    await endCall(r, 'relay2', callId);
  });

  it('a standby started after the call exists restores it from Redis and carries it', async () => {
    const callId = 'failover-late-standby';
    const r = await cluster.withCall(callId, { startStandby: false });
    const relay2 = await r.c.startRelay('relay2');
    await r.c.holds('relay2', callId);
    expect(await numSessions(relay2)).toMatchObject({ own: 0, foreign: 1 });
    await failOver(r, 'standby started after the call');
    await endCall(r, 'relay2', callId);
  });

  /** A call whose caller sends from a NAT port, not the port of its SDP. */
  async function natCall(callId: string): Promise<RunningCall & { sdpSide: AgentSocket }> {
    const c = await cluster.create();
    const relay1 = await c.startRelay('relay1');
    await c.startRelay('relay2');
    const sdpSide = await c.caller.socket(ADDR.caller);
    const caller = await c.caller.socket(ADDR.caller);
    const callee = await c.callee.socket(ADDR.callee);
    const ports = await c.setupCall(relay1, callId, sdpSide.port, callee.port);
    await caller.stream(ADDR.vip1, ports.callerSide, 0x1111);
    await callee.stream(ADDR.vip1, ports.calleeSide, 0x2222);
    await waitForMedia(caller, Date.now());
    await c.holds('relay2', callId);
    return { c, caller, callee, ports, sdpSide };
  }

  it('a caller behind NAT, owner killed before its endpoint was confirmed: the standby learns it', async () => {
    const callId = 'failover-nat-unconfirmed';
    const r = await natCall(callId);
    // Within the learning window (3 s after the answer) the NAT endpoint is learned, not confirmed.
    const gap = await failOver(r, 'NAT, owner killed before the endpoint was confirmed');
    expect(gap.toCaller).toMatchObject({ address: ADDR.vip1, port: r.ports.callerSide });
    await endCall(r, 'relay2', callId);
  });

  it('a caller behind NAT, owner killed after its endpoint was confirmed: the standby sends to it at once', async () => {
    const callId = 'failover-nat-confirmed';
    const r = await natCall(callId);
    // Past the learning window the owner confirms the NAT endpoint and writes it.
    const written = (): boolean => {
      const rec = JSON.stringify(r.c.record(1, callId));
      return rec.includes(`"port":${r.caller.port}`) && rec.includes('"confirmed":true');
    };
    await waitFor('the owner to write the confirmed NAT endpoint', written, 6000, 100);
    // The caller falls silent: only the record can tell the standby where it is.
    await r.caller.stop();
    const kill = await r.c.kill('relay1');
    r.c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
    const first = (await waitForMedia(r.caller, kill.deadAt))[0]!;
    console.log(`media gap [NAT, owner killed after the endpoint was confirmed, caller silent]: callee->caller ${first.at - kill.killedAt} ms`);
    expect(first).toMatchObject({ address: ADDR.vip1, port: r.ports.callerSide });
    expect(r.sdpSide.since(kill.deadAt)).toHaveLength(0);
    await r.caller.stream(ADDR.vip1, r.ports.callerSide, 0x1111);
    await waitForMedia(r.callee, Date.now());
    await waitFor('relay2 to own the call', async () => (await numSessions(r.c.relays.relay2!)).own === 1, 3000);
    await endCall(r, 'relay2', callId);
  });

  it('three relays: the third follows the takeover to the survivor and drops its copy when the call ends there', async () => {
    const callId = 'failover-three';
    const r = await cluster.withCall(callId, { relays: 3 });
    const relay3 = r.c.relays.relay3!;
    await r.c.holds('relay2', callId);
    await r.c.holds('relay3', callId);
    for (const name of ['relay2', 'relay3'] as const) expect(await numSessions(r.c.relays[name]!)).toMatchObject({ own: 0, foreign: 1, total: 1 });
    await failOver(r, 'three relays, VIP1 to relay2');
    // relay3's copy now comes from relay2's DB and survives the old owner's record going away.
    await waitFor("relay3's copy to follow the new owner", async () => / redis_keyspace:2 \| foreign:yes/.test(await relay3.cli('list sessions all')), 3000);
    expect(await numSessions(relay3)).toMatchObject({ own: 0, foreign: 1 });
    // Never torn down and rebuilt on the way (the new record is written before the old one goes).
    expect(relay3.output).not.toContain('"reason":"foreign_deleted"');
    await endCall(r, 'relay2', callId);
  });

  it('warns at start-up when foreign keyspaces are subscribed and a peer address cannot be bound', async () => {
    const c = await cluster.create({ nonlocalBind: false });
    const relay2 = await c.startRelay('relay2');
    expect(relay2.output).toContain(`address ${ADDR.vip1} cannot be bound`);
    expect(relay2.output).toContain('ip_nonlocal_bind=1');
  });
});
