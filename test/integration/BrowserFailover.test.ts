import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR, FailoverCluster, numSessions, type Kill, type RelayName } from '../helpers/FailoverCluster.js';
import type { AgentSocket } from '../helpers/NetLab.js';
import { waitFor } from '../helpers/Relay.js';
import { CHROMIUM, CHROMIUM_ARGS, FRAME, PAGE } from '../helpers/webrtcPage.js';

interface Transport {
  dtlsState: string;
  fingerprint: string;
  packetsReceived: number;
}
type Win = {
  start(): Promise<string>;
  answer(s: string): Promise<void>;
  states(): { ice: string; conn: string };
  transport(): Promise<Transport>;
  received: number[][];
};

/** The browser's frames (B2P:<n>) among the packets the phone received. */
const browserFrames = (packets: { data: Buffer }[]): number[] =>
  packets
    .filter((p) => p.data.length === 12 + FRAME && (p.data[1]! & 0x7f) === 0)
    .map((p) => /^B2P:(\d+)/.exec(p.data.subarray(12, 24).toString('latin1'))?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);

/** The phone's send times (ms) in the frames the browser's receiver saw (the agent writes them first in its payload). */
const phoneSendTimes = (frames: number[][]): number[] => frames.map((f) => Buffer.from(f).readDoubleBE(0));

// Chromium in the caller's namespace, a plain RTP phone in the callee's, the call on relay1
// (VIP1) with relay2 standing by, as docs/cluster.md sets them up. relay1 dies by SIGKILL and
// its VIP moves to relay2: the browser's DTLS-SRTP session goes on through the survivor; then
// relay1, restarted as relay2's standby, takes it back the same way.
describe('a browser call through a relay failover', () => {
  let c: FailoverCluster;
  let browser: BrowserContext;
  let page: Page;
  let dir: string;
  let phone: AgentSocket;

  beforeAll(async () => {
    c = await FailoverCluster.create();
    await c.startRelay('relay1');
    await c.startRelay('relay2');
    dir = mkdtempSync(join(tmpdir(), 'wr-failover-'));
    // playwright talks to Chromium over a pipe: a wrapper starts it inside the caller's namespace.
    const wrapper = join(dir, 'chromium-in-ns');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${c.lab.ns('caller')} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: wrapper, headless: true, args: CHROMIUM_ARGS });
    page = browser.pages()[0] ?? (await browser.newPage());
    // The page from the test itself (a secure origin; the namespace has no server).
    await page.route('http://localhost/', (r) => r.fulfill({ contentType: 'text/html', body: PAGE }));
    await page.goto('http://localhost/');
    phone = await c.callee.socket(ADDR.callee);
  }, 60_000);

  afterAll(async () => {
    await phone?.close();
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await c?.close();
  });

  it('keeps audio flowing both ways through the standby, and back through the restarted owner, without a new DTLS handshake or an SRTP failure', async () => {
    const callId = 'webrtc-failover';
    const relay1 = c.relays.relay1!;
    const offer = await page.evaluate(() => (window as unknown as Win).start());
    const o = await relay1.ng.ok({ command: 'offer', 'call-id': callId, 'from-tag': 'browser', sdp: offer, ICE: 'remove', 'transport-protocol': 'RTP/AVP', DTLS: 'off', 'rtcp-mux': ['demux'], replace: ['origin'] });
    const relayRtp = Number(/^m=audio (\d+)/m.exec(String(o['sdp']))![1]);
    const sipAnswer = ['v=0', `o=- 1 1 IN IP4 ${ADDR.callee}`, 's=-', 't=0 0', `m=audio ${phone.port} RTP/AVP 0`, `c=IN IP4 ${ADDR.callee}`, 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', `a=rtcp:${phone.port}`, ''].join('\r\n');
    const a = await relay1.ng.ok({ command: 'answer', 'call-id': callId, 'from-tag': 'browser', 'to-tag': 'sip', sdp: sipAnswer, ICE: 'force', 'transport-protocol': 'UDP/TLS/RTP/SAVPF', 'rtcp-mux': ['require'] });
    const webAnswer = String(a['sdp']);
    expect(webAnswer).toMatch(new RegExp(`^a=candidate:\\S+ 1 UDP \\d+ ${ADDR.vip1.replaceAll('.', '\\.')} \\d+ typ host`, 'm'));
    const fingerprint = /^a=fingerprint:sha-256 (\S+)$/m.exec(webAnswer)![1]!;
    await page.evaluate((sdp) => (window as unknown as Win).answer(sdp), webAnswer);
    await phone.stream(ADDR.vip1, relayRtp, 0x5150, 20);

    const stats = (): Promise<Transport> => page.evaluate(() => (window as unknown as Win).transport());
    const heard = (): Promise<number> => page.evaluate(() => (window as unknown as Win).received.length);
    await waitFor('ICE and DTLS to connect', async () => (await page.evaluate(() => (window as unknown as Win).states())).conn === 'connected', 20_000, 200);
    await waitFor('the phone\'s frames in the browser', async () => (await heard()) >= 50, 20_000, 200);
    await waitFor('the browser\'s frames at the phone', () => browserFrames(phone.received).length >= 50, 20_000, 100);
    expect(await stats()).toMatchObject({ dtlsState: 'connected', fingerprint });

    /** SIGKILLs `owner` (writing DB `db`) once `standby` holds the call, moves VIP1 over, and checks the media both ways through `standby`. */
    const takeOver = async (owner: RelayName, db: number, standby: RelayName): Promise<void> => {
      // The standby holds the call with the keys the handshake made before the owner dies.
      await waitFor(`the handshake keys in ${owner}'s record`, () => JSON.stringify(c.record(db, callId) ?? {}).includes('"dtlsKeys"'));
      await c.holds(standby, callId);
      // The standby reads the record on its keyspace event (milliseconds).
      await new Promise((r) => setTimeout(r, 500));

      const before = await stats();
      // The page keeps the first 500 frames it receives: start afresh.
      await page.evaluate(() => { (window as unknown as Win).received = []; });
      const lastBrowserFrame = Math.max(...browserFrames(phone.received));
      const kill: Kill = await c.kill(owner);
      c.lab.moveAddress(ADDR.vip1, owner, standby);

      // The phone gets the browser's later frames from the survivor, still from VIP1 and the same port.
      await waitFor(`the browser's frames at the phone through ${standby}`, () => browserFrames(phone.since(kill.deadAt)).length >= 50, 20_000, 100);
      const after = phone.since(kill.deadAt).filter((p) => browserFrames([p]).length === 1);
      expect(after.every((p) => p.address === ADDR.vip1 && p.port === relayRtp)).toBe(true);
      expect(Math.min(...browserFrames(after))).toBeGreaterThan(lastBrowserFrame);
      // The browser keeps decrypting the phone's frames: sent after the kill, counted by its receiver.
      await waitFor(`the phone's frames in the browser through ${standby}`, async () => (await stats()).packetsReceived >= before.packetsReceived + 100, 20_000, 200);
      await waitFor('frames sent after the kill in the browser', async () => {
        const frames = await page.evaluate(() => (window as unknown as Win).received);
        return phoneSendTimes(frames).filter((t) => t > kill.deadAt).length >= 20;
      }, 20_000, 200);
      // Same DTLS session: still connected, still relay1's certificate (a new handshake with another relay would show its own).
      // getStats reports no SRTP failures as such; packetsReceived counts only packets that authenticated
      // (packetsDiscarded is the jitter buffer's, which drops what the gap made late).
      expect(await stats()).toMatchObject({ dtlsState: 'connected', fingerprint });
      console.log(`browser failover ${owner} -> ${standby}: browser->phone gap ${after[0]!.at - kill.deadAt} ms after the owner died`);
      expect(await page.evaluate(() => (window as unknown as Win).states())).toEqual({ ice: 'connected', conn: 'connected' });
      // The survivor owns the call and counts no error (SRTP authentication included) on any stream.
      await waitFor(`${standby} to own the call`, async () => (await numSessions(c.relays[standby]!)).own === 1, 3000);
      const listing = await c.relays[standby]!.cli(`list sessions ${callId}`);
      expect(listing).toMatch(/ [1-9]\d* p, /);
      expect(listing).not.toMatch(/ [1-9]\d* e, /);
    };
    await takeOver('relay1', 1, 'relay2');
    // relay1 comes back as relay2's standby (restored from relay2's record) and takes the call back.
    await c.startRelay('relay1');
    await takeOver('relay2', 2, 'relay1');
    await phone.stop();
    await c.relays.relay1!.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'browser' });
  }, 90_000);
});
