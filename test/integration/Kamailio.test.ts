import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kamailio } from '../helpers/Kamailio.js';
import { placeKamailioCall } from '../helpers/KamailioCall.js';
import { freePort } from '../helpers/ports.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { SipUserAgent } from '../helpers/SipUserAgent.js';
import { audioSdp } from '../helpers/sdp.js';

const RELAY_IP = '127.0.0.1';

interface NgLogLine {
  msg: string;
  cookie: string;
  from: string;
  command: string;
  callId?: string;
  keys: string[];
}

describe('an unmodified Kamailio driving ngrelay', () => {
  let relay: Relay;
  let kamailio: Kamailio;
  let callId = '';

  /** NG requests ngrelay logged that came from Kamailio's processes (cookie `<n>_<pid>_<seq>`). */
  async function kamailioRequests(): Promise<NgLogLine[]> {
    const pids = new Set((await kamailio.rpc('core.psx')).match(/\d+/g) ?? []);
    pids.add(String(kamailio.pid));
    return relay.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as NgLogLine)
      .filter((l) => l.msg === 'NG request' && pids.has(/^\d+_(\d+)_\d+$/.exec(l.cookie)?.[1] ?? ''));
  }

  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0', '--timeout=30'] });
    kamailio = await Kamailio.start({ ngPort: relay.ngPort });
  });

  afterAll(async () => {
    await kamailio?.stop();
    expect(await relay?.stop()).toBe(0);
  });

  it("answers Kamailio's start-up ping with pong, so Kamailio keeps the relay enabled", async () => {
    const pings = await waitFor('a ping from Kamailio', async () => (await kamailioRequests()).filter((r) => r.command === 'ping'));
    expect(pings[0]!.keys).toEqual(['command']);
    await waitFor("Kamailio's 'found, support for it enabled'", () =>
      kamailio.output.includes(`rtpengine instance <udp:${RELAY_IP}:${relay.ngPort}> found, support for it enabled`));
    // Kamailio marks a node disabled when the ping gets anything but pong.
    const show = await kamailio.rpc('rtpengine.show', 'all');
    expect(show).toContain(`udp:${RELAY_IP}:${relay.ngPort}`);
    expect(show).toMatch(/disabled:\s*0/);
    expect(kamailio.output).not.toMatch(/did not respond to ping|responded with invalid response/);
  });

  it('carries a call from INVITE to BYE, with RTP and RTCP both ways through the relay', async () => {
    const call = await placeKamailioCall({
      kamailio,
      relay: { address: RELAY_IP, portMin: relay.portMin, portMax: relay.portMax },
      beforeBye: async (c) => {
        // Two parties only: the callee's re-INVITE (its tag as from-tag) found the existing ones.
        const query = await relay.ng.ok({ command: 'query', 'call-id': c.callId });
        expect(Object.keys(query['tags'] as object).sort()).toEqual([c.aliceTag, c.bobTag].sort());
        const totals = query['totals'] as { RTP: { packets: number }; RTCP: { packets: number } };
        expect(totals.RTP.packets).toBe(2 * c.sent.rtp);
        expect(totals.RTCP.packets).toBe(2 * c.sent.rtcp);
      },
    });
    callId = call.callId;
    const sessions = await waitFor('no own session after BYE', async () => {
      const out = await relay.cli('list numsessions');
      return out.includes('Current sessions own: 0') ? out : '';
    });
    expect(sessions).toContain('Current sessions total: 0');
    expect(await relay.ng.request({ command: 'query', 'call-id': callId })).toEqual({ result: 'error', 'error-reason': 'Unknown call-id' });
  });

  it("receives Kamailio's exact NG keys, in Kamailio's order, for every command of the call", async () => {
    const call = (await kamailioRequests()).filter((r) => r.callId === callId);
    expect(call.map((r) => r.command)).toEqual(['offer', 'answer', 'offer', 'answer', 'offer', 'answer', 'offer', 'answer', 'delete']);
    const initialOffer = ['supports', 'sdp', 'ICE', 'replace', 'call-id', 'received-from', 'from-tag', 'command'];
    const inDialog = ['supports', 'sdp', 'ICE', 'replace', 'call-id', 'received-from', 'from-tag', 'to-tag', 'command'];
    expect(call[0]!.keys).toEqual(initialOffer);
    for (const r of call.slice(1, -1)) expect(r.keys).toEqual(inDialog);
    expect(call[8]!.keys).toEqual(['supports', 'call-id', 'received-from', 'from-tag', 'command']);
    // Kamailio got "ok" for each: a failed command would have made its script log an error.
    expect(kamailio.output).not.toMatch(/rtpengine_(offer|answer) failed|ERROR: rtpengine/);
    const failed = relay.output.split('\n').filter((l) => l.includes('"NG command failed"') && !l.includes('"command":"query"'));
    expect(failed).toEqual([]);
  });
});

describe('Kamailio whose relay does not answer the start-up ping', () => {
  it('marks the relay disabled and turns the INVITE away with 503 (the config above)', async () => {
    const kamailio = await Kamailio.start({ ngPort: await freePort() });
    const alice = await SipUserAgent.open('alice');
    try {
      await waitFor('the relay marked disabled', async () => /disabled:\s*1/.test(await kamailio.rpc('rtpengine.show', 'all')));
      const reply = await alice.invite('sip:bob@127.0.0.1:9', { address: '127.0.0.1', port: kamailio.sipPort }, audioSdp('127.0.0.2', 40000));
      expect(reply.status).toBe(503);
    } finally {
      alice.close();
      await kamailio.stop();
    }
  });
});
