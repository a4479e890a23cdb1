import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PcmuDecoder } from '../../src/media/codecs/Pcmu.js';
import { dominantFrequency, tone } from '../helpers/audio.js';
import { wavBytes } from '../helpers/wav.js';
import { Kamailio } from '../helpers/Kamailio.js';
import { CALLEE_IP, CALLER_IP, placeKamailioCall } from '../helpers/KamailioCall.js';
import { MediaPair } from '../helpers/MediaPair.js';
import { NgTap } from '../helpers/NgTap.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { freePort } from '../helpers/ports.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { SipUserAgent } from '../helpers/SipUserAgent.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

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
    // The relay's DTMF reports go to Kamailio's SIP port, where its nosip module takes them.
    const sipPort = await freePort();
    relay = await Relay.start({ args: ['--delete-delay=0', '--timeout=30', `--dtmf-log-dest=127.0.0.1:${sipPort}`] });
    kamailio = await Kamailio.start({ ngPort: relay.ngPort, sipPort });
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

  it('ends calls that never connect on the relay: CANCEL after early media, and a 486', async () => {
    const kam = { address: '127.0.0.1', port: kamailio.sipPort };
    const noSession = async (id: string): Promise<void> => {
      await waitFor('no own session', async () => (await relay.cli('list numsessions')).includes('Current sessions own: 0'));
      expect(await relay.ng.request({ command: 'query', 'call-id': id })).toEqual({ result: 'error', 'error-reason': 'Unknown call-id' });
    };
    const alice = await SipUserAgent.open('alice');
    const bob = await SipUserAgent.open('bob');
    const aMedia = await MediaPair.open(CALLER_IP, 0xa11ce);
    const bMedia = await MediaPair.open(CALLEE_IP, 0xb0b);
    const carol = await SipUserAgent.open('carol');
    const dave = await SipUserAgent.open('dave');
    try {
      // 183 with SDP: Kamailio answers on the relay, early media reaches the caller; then CANCEL.
      const inviting = alice.invite(`sip:bob@127.0.0.1:${bob.port}`, kam, audioSdp(CALLER_IP, aMedia.port));
      const invite = await bob.nextRequest('INVITE');
      const toBob = readSdp(invite.body).medias[0]!;
      bob.respond(invite, 183, audioSdp(CALLEE_IP, bMedia.port));
      const early = await waitFor('183 at the caller', () => alice.provisional.find((r) => r.status === 183));
      const toAlice = readSdp(early.body).medias[0]!;
      expect([toAlice.address, toBob.address]).toEqual([RELAY_IP, RELAY_IP]);
      bMedia.send(3, { address: RELAY_IP, rtpPort: toBob.port, rtcpPort: toBob.port + 1 });
      const heard = await aMedia.rtp.waitFor(3);
      expect(heard.every((p) => p.port === toAlice.port && p.data.readUInt32BE(8) === bMedia.ssrc)).toBe(true);
      const cancelling = alice.cancel();
      bob.respond(await bob.nextRequest('CANCEL'), 200);
      bob.respond(invite, 487);
      expect((await cancelling).status).toBe(200);
      expect((await inviting).status).toBe(487);
      await noSession(invite.callId);

      // 486 from the callee: Kamailio's failure_route deletes the call.
      const calling = carol.invite(`sip:dave@127.0.0.1:${dave.port}`, kam, audioSdp(CALLER_IP, aMedia.port));
      const busy = await dave.nextRequest('INVITE');
      dave.respond(busy, 486);
      expect((await calling).status).toBe(486);
      await noSession(busy.callId);

      const commands = async (id: string): Promise<string[]> => (await kamailioRequests()).filter((r) => r.callId === id).map((r) => r.command);
      expect(await commands(invite.callId)).toEqual(['offer', 'answer', 'delete']);
      expect(await commands(busy.callId)).toEqual(['offer', 'delete']);
      expect(relay.output).not.toMatch(new RegExp(`"NG command failed".*(${invite.callId}|${busy.callId})`));
    } finally {
      for (const x of [alice, bob, carol, dave, aMedia, bMedia]) x.close();
    }
  });

  it('runs block_dtmf and silence_media from its script: the other party hears no digits, then silence', async () => {
    const media = await placeKamailioCall({
      kamailio,
      relay: { address: RELAY_IP, portMin: relay.portMin, portMax: relay.portMax },
      beforeBye: async (c) => {
        const { alice, bob, aMedia, bMedia, toAlice, toBob } = c.phones;
        const control = async (ua: SipUserAgent, fn: string): Promise<number> => (await ua.request('INFO', undefined, [['X-Media-Control', fn]])).status;
        /** Alice sends audio, an RFC 4733 event, audio; what reaches Bob, as [payload type, first payload byte]. */
        const aliceDials = async (seq: number, expected: number): Promise<number[][]> => {
          const before = bMedia.rtp.received.length;
          const ev = rtpPacket(seq + 1, aMedia.ssrc, 101, 4);
          ev.set([5, 10, 0, 160], 12);
          for (const p of [rtpPacket(seq, aMedia.ssrc).fill(0x11, 12), ev, rtpPacket(seq + 2, aMedia.ssrc).fill(0x11, 12)]) aMedia.rtp.send(p, toAlice.rtpPort, toAlice.address);
          return (await bMedia.rtp.waitFor(before + expected)).slice(before).map((r) => [r.data[1]! & 0x7f, r.data[12]!]);
        };
        /** Bob sends three loud packets; the payload bytes Alice gets. */
        const bobTalks = async (seq: number): Promise<number[]> => {
          const before = aMedia.rtp.received.length;
          for (let i = 0; i < 3; i++) bMedia.rtp.send(rtpPacket(seq + i, bMedia.ssrc).fill(0x22, 12), toBob.rtpPort, toBob.address);
          return (await aMedia.rtp.waitFor(before + 3)).slice(before).map((r) => r.data[20]!);
        };
        expect(await control(alice, 'block_dtmf')).toBe(200);
        expect(await aliceDials(100, 2)).toEqual([[0, 0x11], [0, 0x11]]);
        expect(await control(bob, 'silence_media')).toBe(200);
        expect(await bobTalks(100)).toEqual([0xff, 0xff, 0xff]);
        expect(await control(alice, 'unblock_dtmf')).toBe(200);
        expect(await aliceDials(200, 3)).toEqual([[0, 0x11], [101, 5], [0, 0x11]]);
        expect(await control(bob, 'unsilence_media')).toBe(200);
        expect(await bobTalks(200)).toEqual([0x22, 0x22, 0x22]);
      },
    });
    const commands = (await kamailioRequests()).filter((r) => r.callId === media.callId && !['offer', 'answer', 'delete'].includes(r.command));
    expect(commands.map((r) => r.command)).toEqual(['block DTMF', 'silence media', 'unblock DTMF', 'unsilence media']);
    // "directional": the module names the sender's tag (Bob's for Bob's INFO); without it, only the call.
    for (const r of commands) expect(r.keys).toEqual(['supports', 'call-id', 'received-from', 'from-tag', 'command']);
  });

  it('logs each digit a phone sends or the relay plays for it, reported by the relay to its SIP port (nosip)', async () => {
    /** A digit as a phone sends it: a start and three end packets at one timestamp. */
    const digit = (seq: number, ts: number, ssrc: number, event: number): Buffer[] => [0, 0x80, 0x80, 0x80].map((end, i) => {
      const p = rtpPacket(seq + i, ssrc, 101, 4);
      p.writeUInt32BE(ts, 4);
      p.set([event, end | 10, 800 >> 8, 800 & 0xff], 12);
      return p;
    });
    const logged = (callId: string): string[] => [...kamailio.output.matchAll(new RegExp(`DTMF digit event (\\d+) duration (\\d+) from (\\S+) in ${callId.replace(/[.]/g, '\\.')}$`, 'gm'))].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    const media = await placeKamailioCall({
      kamailio,
      relay: { address: RELAY_IP, portMin: relay.portMin, portMax: relay.portMax },
      beforeBye: async (c) => {
        const { alice, aMedia, bMedia, toAlice, toBob } = c.phones;
        // The relay plays '7' to Bob for Alice: reported as Alice's (250 ms, the default length).
        const fromB = bMedia.rtp.received.length;
        expect((await alice.request('INFO', undefined, [['X-Media-Control', 'play_dtmf'], ['X-Media-Digit', '7']])).status).toBe(200);
        await waitFor('the played digit at Bob', () => bMedia.rtp.received.slice(fromB).filter((r) => (r.data[1]! & 0x7f) === 101 && (r.data[13]! & 0x80) !== 0).length >= 3);
        for (const p of digit(500, 80_000, aMedia.ssrc, 4)) aMedia.rtp.send(p, toAlice.rtpPort, toAlice.address);
        for (const p of digit(600, 90_000, bMedia.ssrc, 11)) bMedia.rtp.send(p, toBob.rtpPort, toBob.address);
        // Alice's last digit is reported after everything she sent before.
        for (const p of digit(510, 96_000, aMedia.ssrc, 1)) aMedia.rtp.send(p, toAlice.rtpPort, toAlice.address);
        await waitFor("Kamailio's log of the digits", () => logged(c.callId).length >= 4);
      },
    });
    expect(logged(media.callId).sort()).toEqual([`1 100 ${media.aliceTag}`, `11 100 ${media.bobTag}`, `4 100 ${media.aliceTag}`, `7 250 ${media.aliceTag}`]);
  });

  it('runs play_media, stop_media and play_dtmf: the sender of the INFO hears the file, its peer hears the digit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ngrelay-kam-play-'));
    const file = join(dir, 'prompt.wav');
    writeFileSync(file, wavBytes(tone({ freq: 440, rate: 8000, samples: 8000, seed: 31, amplitude: 10000 }), 8000));
    try {
      const media = await placeKamailioCall({
        kamailio,
        relay: { address: RELAY_IP, portMin: relay.portMin, portMax: relay.portMax },
        beforeBye: async (c) => {
          const { alice, bob, aMedia, bMedia, toBob } = c.phones;
          const info = async (ua: SipUserAgent, headers: [string, string][]): Promise<number> => (await ua.request('INFO', undefined, headers)).status;
          // Alice asks for the prompt and hears 440 Hz in PCMU, made by the relay.
          const before = aMedia.rtp.received.length;
          expect(await info(alice, [['X-Media-Control', 'play_media'], ['X-Media-File', file]])).toBe(200);
          const played = (await aMedia.rtp.waitFor(before + 15)).slice(before).filter((r) => (r.data[1]! & 0x7f) === 0);
          const dec = new PcmuDecoder();
          const pcm = new Int16Array(played.length * 160);
          let n = 0;
          for (const r of played) n += dec.decode(r.data, 12, r.data.length - 12, pcm.subarray(n));
          expect(dominantFrequency(pcm.subarray(0, n), 8000, 200, 3800)).toBe(440);
          // stop_media: Bob is heard again, byte for byte.
          expect(await info(alice, [['X-Media-Control', 'stop_media']])).toBe(200);
          await waitFor('the playback to stop', async () => {
            const from = aMedia.rtp.received.length;
            bMedia.rtp.send(rtpPacket(300, bMedia.ssrc).fill(0x22, 12), toBob.rtpPort, toBob.address);
            await new Promise((r) => setTimeout(r, 30));
            return aMedia.rtp.received.slice(from).some((r) => r.data[20] === 0x22);
          });
          // play_dtmf from Alice: Bob gets the digit as RFC 4733 events (telephone-event was negotiated).
          const fromB = bMedia.rtp.received.length;
          expect(await info(alice, [['X-Media-Control', 'play_dtmf'], ['X-Media-Digit', '7']])).toBe(200);
          const events = await waitFor('the digit at Bob', () => {
            const ev = bMedia.rtp.received.slice(fromB).filter((r) => (r.data[1]! & 0x7f) === 101);
            return ev.filter((r) => (r.data[13]! & 0x80) !== 0).length >= 3 ? ev : null;
          });
          expect(new Set(events.map((r) => r.data[12]))).toEqual(new Set([7]));
        },
      });
      const commands = (await kamailioRequests()).filter((r) => r.callId === media.callId && !['offer', 'answer', 'delete'].includes(r.command));
      expect(commands.map((r) => r.command)).toEqual(['play media', 'stop media', 'play DTMF']);
      // "directional": the sender's tag as from-tag (the party chosen), its peer's as to-tag; the file and the digit as keys of their own.
      expect(commands.map((r) => r.keys)).toEqual([
        ['supports', 'file', 'call-id', 'received-from', 'from-tag', 'to-tag', 'command'],
        ['supports', 'call-id', 'received-from', 'from-tag', 'to-tag', 'command'],
        ['supports', 'code', 'call-id', 'received-from', 'from-tag', 'to-tag', 'command'],
      ]);
      expect(relay.output).not.toMatch(/"NG command failed".*"command":"(play|stop)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

describe('Kamailio resending an NG request whose reply was lost', () => {
  it('gets the same reply from the cookie cache, and the call goes on with one set of ports', async () => {
    const relay = await Relay.start({ args: ['--delete-delay=0', '--timeout=30'] });
    // The first reply to the first offer is lost; Kamailio resends after rtpengine_tout_ms.
    const tap = await NgTap.open({ host: '127.0.0.1', port: relay.ngPort }, (ex) => ex.request['command'] === 'offer' && !tap.exchanges.some((e) => e.dropped));
    let kamailio: Kamailio | undefined;
    try {
      kamailio = await Kamailio.start({ ngPort: tap.port });
      const call = await placeKamailioCall({ kamailio, relay: { address: RELAY_IP, portMin: relay.portMin, portMax: relay.portMax } });
      const offers = tap.exchanges.filter((e) => e.request['call-id'] === call.callId && e.request['command'] === 'offer');
      expect(offers[0]!.dropped).toBe(true);
      expect(offers[1]!.cookie).toBe(offers[0]!.cookie);
      expect(offers[1]!.reply).toEqual(offers[0]!.reply);
      expect(relay.output).toContain('duplicate NG request answered from cache');
      await waitFor('no own session after BYE', async () => (await relay.cli('list numsessions')).includes('Current sessions own: 0'));
    } finally {
      await kamailio?.stop();
      tap.close();
      expect(await relay.stop()).toBe(0);
    }
  });
});
