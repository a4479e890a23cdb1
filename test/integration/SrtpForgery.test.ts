import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../helpers/health.js';
import { Relay } from '../helpers/Relay.js';
import { RtpEndpoint } from '../helpers/RtpEndpoint.js';
import { SdesCall } from '../helpers/SdesCall.js';

/** A packet that looks like RTP (SRTP: with a tag's worth of bytes more) under a random SSRC and sequence number. */
function forged(next: () => number, tagBytes: number): Buffer {
  const p = Buffer.alloc(12 + 160 + tagBytes);
  for (let i = 0; i < p.length; i++) p[i] = Math.floor(next() * 256);
  p[0] = 0x80;
  p[1] = 0;
  return p;
}

// Forged packets from another source (no strict source: they reach the relay's SRTP code)
// must not take the real streams' rollover counters and replay windows away.
for (const threads of [0, 2]) {
  describe(`SRTP under forged SSRCs (num-threads ${threads})`, () => {
    let relay: Relay;
    let call: SdesCall;
    let forger: RtpEndpoint;
    beforeAll(async () => {
      relay = await Relay.start({ args: [`--num-threads=${threads}`, '--delete-delay=0'] });
      forger = await RtpEndpoint.open();
    });
    afterAll(async () => {
      call?.close();
      forger?.close();
      expect(await relay.stop()).toBe(0);
    });

    it('a stream at ROC 1 keeps every packet after 100 forged SSRCs on each side', async () => {
      call = await SdesCall.place(relay, `forged-${threads}`);
      // Past the learning window, so that the parties' endpoints are confirmed by their first packets.
      await new Promise((r) => setTimeout(r, 3200));
      // Across the sequence number wrap: both directions at rollover counter 1.
      expect(await call.stream(65436, 200)).toEqual({ atPlain: 200, atSrtp: 200 });
      const next = rng(21);
      for (let i = 0; i < 100; i++) {
        forger.send(forged(next, 10), call.srtpTo, '127.0.0.1');
        forger.send(forged(next, 0), call.plainTo, '127.0.0.1');
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(await call.stream(100, 600)).toEqual({ atPlain: 600, atSrtp: 600 });
    });
  });
}
