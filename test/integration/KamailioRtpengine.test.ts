import { describe, expect, it } from 'vitest';
import { Kamailio } from '../helpers/Kamailio.js';
import { placeKamailioCall, type KamailioCallResult } from '../helpers/KamailioCall.js';
import { NgTap, type NgExchange } from '../helpers/NgTap.js';
import { Relay, waitFor } from '../helpers/Relay.js';

interface Run {
  exchanges: NgExchange[];
  call: KamailioCallResult;
}

/** The same Kamailio, config and SIP call, once against `relay`, with an NG tap recording both directions. */
async function runAgainst(rtpengine: boolean): Promise<Run> {
  const relay = await Relay.start({ rtpengine, args: ['--delete-delay=0', '--timeout=30'] });
  const tap = await NgTap.open({ host: '127.0.0.1', port: relay.ngPort });
  let kamailio: Kamailio | undefined;
  try {
    kamailio = await Kamailio.start({ ngPort: tap.port });
    await waitFor('Kamailio start-up ping answered', () => tap.exchanges.some((e) => e.request['command'] === 'ping' && e.reply));
    const call = await placeKamailioCall({ kamailio, relay: { address: '127.0.0.1', portMin: relay.portMin, portMax: relay.portMax } });
    await waitFor('no own session after BYE', async () => (await relay.cli('list numsessions')).includes('Current sessions own: 0'));
    await waitFor('the delete reply', () => tap.exchanges.some((e) => e.request['command'] === 'delete' && e.reply));
    return { exchanges: tap.exchanges, call };
  } finally {
    await kamailio?.stop();
    tap.close();
    await relay.stop();
  }
}

/** command → result, and the reply's keys in wire order, per request of the call (pings apart). */
function shape(run: Run): Array<{ command: unknown; result: unknown; replyKeys: string[] }> {
  return run.exchanges
    .filter((e) => e.request['call-id'] === run.call.callId)
    .map((e) => ({ command: e.request['command'], result: e.reply?.['result'], replyKeys: Object.keys(e.reply ?? {}) }));
}

/** An SDP with addresses, ports and origin ids blanked, to show only structural differences. */
function structure(sdp: string): string[] {
  return sdp
    .split('\r\n')
    .filter((l) => l)
    .map((l) => l.replace(/\b\d+\.\d+\.\d+\.\d+\b/g, 'ADDR').replace(/^(m=\w+) \d+/, '$1 PORT').replace(/^a=rtcp:\d+/, 'a=rtcp:PORT').replace(/^(o=\S+) \d+ \d+/, '$1 ID VER'));
}

describe('the same Kamailio call against Debian rtpengine 10.5 and against ngrelay', () => {
  it('gets pong and ok for every command from both, and media flows both ways with either', async () => {
    const reference = await runAgainst(true);
    const ours = await runAgainst(false);

    for (const run of [reference, ours]) {
      const pings = run.exchanges.filter((e) => e.request['command'] === 'ping');
      expect(pings.length).toBeGreaterThan(0);
      expect(pings.map((e) => e.reply)).toEqual(pings.map(() => ({ result: 'pong' })));
      expect(shape(run).every((s) => s.result === 'ok')).toBe(true);
    }
    // Same commands in the same order, same result, same reply keys in the same order (values differ: ports, times).
    expect(shape(ours)).toEqual(shape(reference));
    // Kamailio sent the same request keys to both.
    const requestKeys = (run: Run): string[][] => run.exchanges.filter((e) => e.request['call-id'] === run.call.callId).map((e) => Object.keys(e.request));
    expect(requestKeys(ours)).toEqual(requestKeys(reference));

    // SDP texts are not compared (rtpengine regenerates some attributes); print where they differ.
    const differing = reference.call.sdps.filter((r, i) => structure(r.media.sdp).join() !== structure(ours.call.sdps[i]!.media.sdp).join());
    if (differing.length > 0) {
      const i = reference.call.sdps.indexOf(differing[0]!);
      console.log(`SDP structure differs in ${differing.length} of ${reference.call.sdps.length} SDPs (${differing.map((d) => d.step).join(', ')}); first:\n` +
        `  rtpengine: ${structure(reference.call.sdps[i]!.media.sdp).join(' | ')}\n  ngrelay:   ${structure(ours.call.sdps[i]!.media.sdp).join(' | ')}`);
    }
  });
});
