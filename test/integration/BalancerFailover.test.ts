import { afterEach, describe, expect, it } from 'vitest';
import { Balancer } from '../helpers/Balancer.js';
import { ADDR, FailoverCluster, numSessions, reportGap, waitForMedia } from '../helpers/FailoverCluster.js';
import { waitFor } from '../helpers/Relay.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

const BALANCER_NG = 2222;
const BALANCER_CLI = 9901;

// The failover lab (docs/cluster.md): two ngrelays clustered through Redis, each in its own
// namespace; the balancer runs in the SIP proxy's namespace and the proxy talks only to it.
describe('ngrelay-balancer following a failover between clustered relays', () => {
  let c: FailoverCluster | null = null;
  let b: Balancer | null = null;

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(`${c?.logs()}\n===== balancer\n${b?.output}`);
    await b?.stop('SIGKILL');
    await c?.close();
    b = null;
    c = null;
  });

  it('the BYE of a call that failed over reaches the survivor and deletes the call there; new calls go to the survivor', async () => {
    c = await FailoverCluster.create({ prefix: 'bal' });
    await c.startRelay('relay1');
    await c.startRelay('relay2');
    // relay2 has weight 0: it takes calls only when relay1 cannot, so the call starts on relay1.
    b = await Balancer.start({
      netns: c.lab.ns('sip'),
      ngHost: ADDR.sip,
      ngPort: BALANCER_NG,
      cliPort: BALANCER_CLI,
      control: c.sip.controlPath(ADDR.sip),
      members: [
        { name: 'relay1', address: `${ADDR.relay1}:2223`, weight: 1 },
        { name: 'relay2', address: `${ADDR.relay2}:2223`, weight: 0 },
      ],
      args: ['--ping-interval=1', '--failures=2'],
    });
    const callId = 'bal-failover';
    const common = { 'call-id': callId, 'from-tag': 'caller-tag', replace: ['origin', 'session-connection'], ICE: 'remove' };
    const caller = await c.caller.socket(ADDR.caller);
    const callee = await c.callee.socket(ADDR.callee);
    const offer = await b.ng.ok({ ...common, command: 'offer', sdp: audioSdp(ADDR.caller, caller.port) });
    const answer = await b.ng.ok({ ...common, command: 'answer', 'to-tag': 'callee-tag', sdp: audioSdp(ADDR.callee, callee.port) });
    const calleeSide = readSdp(offer['sdp'] as string).medias[0]!.port;
    const callerSide = readSdp(answer['sdp'] as string).medias[0]!.port;
    expect(readSdp(offer['sdp'] as string).medias[0]!.address).toBe(ADDR.vip1);
    await caller.stream(ADDR.vip1, callerSide, 0x1111);
    await callee.stream(ADDR.vip1, calleeSide, 0x2222);
    const t = Date.now();
    await waitForMedia(callee, t);
    await waitForMedia(caller, t);
    expect(await numSessions(c.relays.relay1!)).toMatchObject({ own: 1 });
    await c.holds('relay2', callId);

    // relay1 dies; keepalived moves VIP1 to relay2, which takes the call over.
    const kill = await c.kill('relay1');
    c.lab.moveAddress(ADDR.vip1, 'relay1', 'relay2');
    await reportGap('balancer in front', kill, callee, caller);
    await waitFor('relay2 to own the call', async () => (await numSessions(c!.relays.relay2!)).own === 1, 3000);
    await waitFor('the balancer to mark relay1 offline', async () => (await b!.members()).get('relay1')!['state'] === 'offline', 5000, 100);

    // A re-INVITE and the BYE, through the balancer: they follow the call to relay2.
    await b.ng.ok({ ...common, command: 'offer', sdp: audioSdp(ADDR.caller, caller.port) });
    await b.ng.ok({ ...common, command: 'answer', 'to-tag': 'callee-tag', sdp: audioSdp(ADDR.callee, callee.port) });
    expect((await b.members()).get('relay2')!['active sessions']).toBe('1');
    await caller.stop();
    await callee.stop();
    await b.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'caller-tag' });
    await waitFor('the call to end on relay2', async () => (await numSessions(c!.relays.relay2!)).total === 0, 3000);
    await waitFor('no key of the call in any DB', () => c!.allKeys().length === 0, 3000);
    expect(b.output).toContain('call followed to the member that took it over');
    console.log('failover follow: re-INVITE and BYE through the balancer reached relay2 after relay1 died; call deleted there, no Redis key left');

    // New calls avoid the dead member.
    await b.ng.ok({ command: 'offer', 'call-id': 'bal-after', 'from-tag': 'x', sdp: audioSdp(ADDR.caller, caller.port) });
    expect(await numSessions(c.relays.relay2!)).toMatchObject({ own: 1 });
    await b.ng.ok({ command: 'delete', 'call-id': 'bal-after', 'from-tag': 'x' });
    expect(await b.cli('totals')).toContain('active sessions = 0');
  });
});
