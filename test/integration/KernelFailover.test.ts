import { describe, expect, it } from 'vitest';
import { clusterPerTest, endCall, failOver } from '../helpers/FailoverCluster.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
import { listTotalsValue } from '../helpers/stats.js';

// Failover with the kernel fast path on both relays (each in its own namespace): the owner
// relays the confirmed call in the kernel, dies, and the survivor carries the call in userspace
// at once, then hands it to its own kernel once it has confirmed both ends.
describe('in-call failover with the kernel fast path', () => {
  const cluster = clusterPerTest();
  const offloaded = async (relay: Relay, callId: string): Promise<number> =>
    (await relay.cli(`list sessions ${callId}`)).split('\n').filter((l) => l.endsWith(', kernel')).length;

  it('keeps media flowing through the survivor, which offloads the call again', async () => {
    const callId = 'kernel-failover';
    const r = await cluster.withCall(callId, { args: ['--table=21'] });
    const relay1 = r.c.relays.relay1!;
    // Delayed learning: confirmed 3 s after the answer, then handed to the kernel.
    await waitFor('the owner to offload both directions', async () => (await offloaded(relay1, callId)) === 2, 8000, 200);
    const kern0 = await listTotalsValue(relay1, 'Total relayed packets (kernel)');
    await waitFor('the owner\'s kernel to relay', async () => (await listTotalsValue(relay1, 'Total relayed packets (kernel)')) > kern0, 4000, 200);

    const gap = await failOver(r, 'kernel fast path on the owner');
    expect(gap.toCallee.port).toBe(r.ports.calleeSide);
    const relay2 = r.c.relays.relay2!;
    await waitFor('the survivor to offload both directions', async () => (await offloaded(relay2, callId)) === 2, 8000, 200);
    const user0 = await listTotalsValue(relay2, 'Total relayed packets (userspace)');
    const kern2 = await listTotalsValue(relay2, 'Total relayed packets (kernel)');
    await waitFor('the survivor\'s kernel to relay', async () => (await listTotalsValue(relay2, 'Total relayed packets (kernel)')) > kern2 + 50, 5000, 200);
    // Once offloaded, the survivor's sockets see (almost) nothing of the streams.
    expect((await listTotalsValue(relay2, 'Total relayed packets (userspace)')) - user0).toBeLessThan(5);
    await endCall(r, 'relay2', callId);
  });
});
