import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flood } from '../helpers/flood.js';
import { MediaCall, paced, streamsOf } from '../helpers/MediaCall.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';

/**
 * One socket flooded must not starve the others, and must not be shut for good either.
 * libuv (src/unix/udp.c, uv__udp_recvmsg) reads at most 32 datagrams from one socket per
 * readiness event before it returns to the loop, and epoll is level-triggered, so every
 * ready socket gets its turn each loop iteration; excess for the flooded socket is dropped
 * by the kernel at that socket's receive buffer.
 */
describe('a flooded media port', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('does not lock out another call, and keeps being read after the flood', async () => {
    const victim = await MediaCall.establish(relay);
    const flooded = await MediaCall.establish(relay);
    const FLOOD = 100_000;
    const PACKETS = 150;
    const floodDone = flood(flooded.toCaller.port, '127.0.0.1', FLOOD);
    // The victim call talks both ways at 50 packets/s for 3 s while the flood runs.
    await paced(PACKETS, 50, (i) => {
      victim.caller.send(rtpPacket(i, 0xa), victim.toCaller.port, '127.0.0.1');
      victim.callee.send(rtpPacket(i, 0xb), victim.toCallee.port, '127.0.0.1');
    });
    const f = await floodDone;
    await victim.callee.waitFor(PACKETS, 5000);
    await victim.caller.waitFor(PACKETS, 5000);
    expect(victim.callee.received.map((p) => p.data.readUInt16BE(2))).toEqual([...Array(PACKETS).keys()]);
    expect(victim.caller.received).toHaveLength(PACKETS);

    const floodedIn = streamsOf(await flooded.query(), 'caller')[0]!.stats.packets;
    console.log(
      `flood: ${f.sent} packets in ${f.ms} ms (${Math.round(f.sent / (f.ms / 1000))}/s) into one port; ` +
        `relay read ${floodedIn} of them; victim call lost 0 of ${2 * PACKETS}`,
    );
    expect(floodedIn).toBeGreaterThan(0);

    // Once the backlog is drained, the same port still relays the real caller's packets.
    await waitFor('flooded socket drained', async () => {
      const n = streamsOf(await flooded.query(), 'caller')[0]!.stats.packets;
      await new Promise((r) => setTimeout(r, 100));
      return n === streamsOf(await flooded.query(), 'caller')[0]!.stats.packets;
    });
    const drained = flooded.callee.received.length;
    flooded.callerSends(10, 0, 0xc0ffee);
    await flooded.callee.waitFor(drained + 10);
    const after = flooded.callee.received.slice(drained).filter((p) => p.data.readUInt32BE(8) === 0xc0ffee);
    expect(after).toHaveLength(10);
    await victim.delete();
    await flooded.delete();
    victim.close();
    flooded.close();
  });
});
