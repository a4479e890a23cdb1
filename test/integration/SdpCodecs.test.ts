import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dict } from '../helpers/NgClient.js';
import { Relay } from '../helpers/Relay.js';

// SDP and codec handling, each scenario sent to ngrelay and to Debian's rtpengine 10.5 with the
// same options: the SDPs must be the same line for line (ports and the loop-protect id aside).
// What needs a transcoder is refused by ngrelay, and the refused request leaves the call as it was.

const sdp = (...lines: string[]): string => [...lines, ''].join('\r\n');
const head = (o = 'o=- 1545997027 1 IN IP4 198.51.100.1', s = 's=tester'): string[] => ['v=0', o, s, 't=0 0'];
const audio = (port: number, pts: string, ...more: string[]): string[] => [`m=audio ${port} RTP/AVP ${pts}`, 'c=IN IP4 198.51.100.1', ...more];

/** Ports and the relay's instance id differ between relays; the rest must not. */
const norm = (text: unknown): string =>
  String(text).replace(/^(m=\S+ )[1-9]\d*/gm, '$1PORT').replace(/^a=rtcp:\d+/gm, 'a=rtcp:PORT').replace(/^a=rtpengine:[0-9a-f]{12}$/gm, 'a=rtpengine:ID');

let seq = 0;

describe('SDP and codec handling as rtpengine 10.5', () => {
  let ours: Relay;
  let ref: Relay;
  beforeAll(async () => {
    [ours, ref] = await Promise.all([Relay.start({ args: ['--delete-delay=0'] }), Relay.start({ rtpengine: true, args: ['--delete-delay=0'] })]);
  });
  afterAll(async () => {
    await Promise.all([ours.stop(), ref.stop()]);
  });

  /** A call with the same ids on both relays; each step's SDP must match rtpengine's. */
  function call(): { offer(sdp: string, extra?: Dict): Promise<string>; answer(sdp: string, extra?: Dict): Promise<string>; id: string } {
    const id = `sdp-codecs-${process.pid}-${++seq}`;
    const step = async (command: string, body: string, extra: Dict): Promise<string> => {
      const d: Dict = { command, 'call-id': id, 'from-tag': 'caller', sdp: body, ...extra };
      if (command === 'answer') d['to-tag'] ??= 'callee';
      const [a, b] = await Promise.all([ours.ng.request(d), ref.ng.request(d)]);
      expect(a['result'], JSON.stringify(a)).toBe(b['result']);
      expect(norm(a['sdp'])).toBe(norm(b['sdp']));
      return norm(a['sdp']);
    };
    return { id, offer: (s, e = {}) => step('offer', s, e), answer: (s, e = {}) => step('answer', s, e) };
  }

  it('answers with the offered codecs only (GH 1499), a rejected stream keeping an offered codec', async () => {
    const c = call();
    await c.offer(sdp(...head(), 'c=IN IP4 198.51.100.1', 'm=audio 4024 RTP/AVP 0 8', 'm=audio 4026 RTP/AVP 8 9'));
    const out = await c.answer(sdp(...head(), 'c=IN IP4 198.51.100.1', 'm=audio 4026 RTP/AVP 8 9 101', 'a=rtpmap:101 telephone-event/8000', 'm=audio 0 RTP/AVP 0'));
    expect(out).toContain('m=audio PORT RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n');
    expect(out).toContain('m=audio 0 RTP/AVP 8\r\n');
  });

  it('keeps a null c= (hold) as the null address of the family passed on, send-only; replace zero-address gives ours', async () => {
    for (const extra of [{}, { 'address-family': 'IP6' }, { replace: ['zero-address'] }] as Dict[]) {
      const out = await call().offer(sdp(...head(), 'm=audio 16478 RTP/AVP 8', 'c=IN IP4 0.0.0.0'), extra);
      expect(out).toContain('a=sendonly');
    }
    const session = await call().offer(sdp('v=0', 'o=- 1 1 IN IP4 198.51.100.1', 's=tester', 'c=IN IP4 0.0.0.0', 't=0 0', 'm=audio 16478 RTP/AVP 8'));
    expect(session).toContain('c=IN IP4 0.0.0.0\r\n');
  });

  it('passes non-RTP media (MSRP) and rejected media through untouched, with no direction added to port 0', async () => {
    const out = await call().offer(sdp('v=0', 'o=- 1 1 IN IP4 1.2.3.4', 's=Asterisk', 'c=IN IP4 1.2.3.4', 't=0 0',
      'm=audio 27998 RTP/AVP 96', 'a=rtpmap:96 opus/48000/2', 'm=message 28000 TCP/MSRP *', 'a=setup:active',
      'm=audio 0 RTP/AVP 0', 'a=sendrecv', 'a=mid:1', 'm=application 0 *'));
    expect(out).toContain('m=message PORT TCP/MSRP *\r\nc=IN IP4 1.2.3.4\na=setup:active\r\n');
    expect(out).toContain('m=audio 0 RTP/AVP 0\r\na=mid:1\r\nm=application 0 *\r\n');
  });

  it('applies codec strip, except, offer and mask', async () => {
    const offer = sdp(...head(), ...audio(3000, '0 8 9 96 97', 'a=rtpmap:96 telephone-event/8000', 'a=rtpmap:97 telephone-event/16000'));
    const cases: Dict[] = [
      { codec: { strip: ['PCMA'] } },
      { flags: ['codec-strip-G722'] },
      { codec: { except: ['PCMU', 'telephone-event'] } },
      { codec: { strip: ['all'], except: ['PCMU', 'telephone-event'] } },
      { codec: { strip: ['all'], offer: ['PCMA', 'PCMU'] } },
      { codec: { mask: ['PCMU'] } },
      { codec: { mask: ['telephone-event'] } },
    ];
    const outs: string[] = [];
    for (const extra of cases) {
      const c = call();
      const out = await c.offer(offer, extra);
      outs.push(out);
      // The answerer picks the first codec it was offered.
      const first = /^m=audio PORT RTP\/AVP (\d+)/m.exec(out)![1]!;
      await c.answer(sdp(...head(), ...audio(3002, `${first} 96`, 'a=rtpmap:96 telephone-event/8000')));
    }
    expect(outs[0]).toContain('m=audio PORT RTP/AVP 0 9 96 97\r\n');
    expect(outs[5]).toContain('m=audio PORT RTP/AVP 8 9 96 97\r\n');
    expect(outs[3]).toContain('m=audio PORT RTP/AVP 0 96 97\r\n');
    expect(outs[4]).toContain('m=audio PORT RTP/AVP 8 0\r\n');
  });

  it('keeps o= username, s= and a changing o= version with replace username, session-name, sdp-version', async () => {
    const c = call();
    const replace = { replace: ['username', 'session-name', 'SDP-version'] };
    await c.offer(sdp(...head('o=alice 100 5 IN IP4 198.51.100.1', 's=first'), ...audio(3000, '0')), replace);
    const same = await c.offer(sdp(...head('o=bob 100 9 IN IP4 198.51.100.1', 's=second'), ...audio(3000, '0')), replace);
    expect(same).toContain('o=alice 100 5 IN IP4 198.51.100.1\r\ns=first\r\n');
    const changed = await c.offer(sdp(...head('o=bob 100 9 IN IP4 198.51.100.1', 's=second'), ...audio(3000, '0 8')), replace);
    expect(changed).toContain('o=alice 100 6 IN IP4');
  });

  it('raises the o= version (replace SDP-version) once per changed SDP, never for a re-sent one, the same in every session of a multi-session body', async () => {
    const replace = { replace: ['SDP version'] };
    const c = call();
    const versions: string[] = [];
    for (const [v, port] of [[1, 2000], [1, 2000], [2, 2000], [1, 2002], [4, 2002], [5, 2002]] as const) {
      versions.push(/^o=- 1545997027 (\d+) /m.exec(await c.offer(sdp(...head(`o=- 1545997027 ${v} IN IP4 198.51.100.1`), ...audio(port, '0')), replace))![1]!);
    }
    // The sender's own version never counts: a new port does, once.
    expect(versions).toEqual(['1', '1', '1', '2', '2', '2']);
    const multi = call();
    const two = (v1: number, v2: number, port: number): string => sdp(...head(`o=- 1545997027 ${v1} IN IP4 198.51.100.1`), ...audio(port, '0'), ...head(`o=- 1545997027 ${v2} IN IP4 198.51.100.1`), ...audio(2002, '0'));
    const first = await multi.offer(two(9999, 1, 2002), replace);
    expect(first.match(/^o=.*$/gm)).toEqual(['o=- 1545997027 9999 IN IP4 198.51.100.1', 'o=- 1545997027 9999 IN IP4 198.51.100.1']);
    expect(first).toContain('a=rtcp:PORT\r\nv=0\r\no=- 1545997027 9999 IN IP4 198.51.100.1\r\ns=tester\r\nt=0 0\r\nm=audio PORT RTP/AVP 0\r\n');
    expect(await multi.offer(two(1, 1000, 2004), replace)).toContain('o=- 1545997027 10000 IN IP4');
  });

  it('marks its SDP for loop protection and returns a looped SDP unchanged', async () => {
    const c = call();
    const out = await c.offer(sdp(...head(), ...audio(3000, '0')), { flags: ['loop-protect'] });
    expect(out).toContain('t=0 0\r\na=rtpengine:ID\r\nm=audio');
    const first = await ours.ng.ok({ command: 'offer', 'call-id': `${c.id}-loop`, 'from-tag': 'x', sdp: sdp(...head(), ...audio(3000, '0')), flags: ['loop-protect'] });
    const again = await ours.ng.ok({ command: 'offer', 'call-id': `${c.id}-loop2`, 'from-tag': 'y', sdp: first['sdp'], flags: ['loop-protect'] });
    expect(again['sdp']).toBe(first['sdp']);
  });

  it('applies the codec flags of offer and answer as rtpengine 10.5: transcode, mask, consume, accept, single-codec, telephone-event per clock rate', async () => {
    const te = (pt: number, clock = 8000): string[] => [`a=rtpmap:${pt} telephone-event/${clock}`, `a=fmtp:${pt} 0-15`];
    const offerer = sdp(...head(), ...audio(5000, '0 8 101', ...te(101), 'a=ptime:20'));
    const scenarios: [Dict, string, Dict][] = [
      // Masked PCMA still taken from the offerer; the answerer's PCMU goes back as it is.
      [{ codec: { mask: ['PCMA'], transcode: ['G722'] } }, sdp(...head(), ...audio(5002, '9 101', ...te(101))), {}],
      // The answerer takes the added G722: the offerer is answered with its own first codec.
      [{ codec: { transcode: ['G722', 'opus'] } }, sdp(...head(), ...audio(5002, '9 101', ...te(101))), {}],
      // opus at 48 kHz gets its own telephone-event; the answer without it gets none back.
      [{ codec: { strip: ['all'], except: ['PCMU'], transcode: ['opus'] } }, sdp(...head(), ...audio(5002, '96', 'a=rtpmap:96 opus/48000/2')), {}],
      [{ codec: { consume: ['PCMA'] } }, sdp(...head(), ...audio(5002, '0 101', ...te(101))), {}],
      [{ codec: { accept: ['PCMA'], transcode: ['G722'] } }, sdp(...head(), ...audio(5002, '9', 'a=rtpmap:9 G722/8000')), {}],
      [{ flags: ['always-transcode'] }, sdp(...head(), ...audio(5002, '8 0')), {}],
      [{ flags: ['single-codec'] }, sdp(...head(), ...audio(5002, '8 0 101', ...te(101))), { flags: ['single-codec'] }],
      [{ codec: { transcode: ['PCMA'], strip: ['PCMU'] } }, sdp(...head(), ...audio(5002, '8')), {}],
      // Another packet size towards the answerer (repacketised), and back from it.
      [{ ptime: 30 }, sdp(...head(), ...audio(5002, '0 101', ...te(101))), {}],
      [{ ptime: 30, 'ptime-reverse': 40 }, sdp(...head(), ...audio(5002, '0', 'a=ptime:30')), {}],
    ];
    const outs: string[] = [];
    for (const [flags, answer, answerFlags] of scenarios) {
      const c = call();
      outs.push(await c.offer(offerer, flags), await c.answer(answer, answerFlags));
    }
    // Some of them spelt out: G722 and opus added (telephone-event for 48 kHz too), the offerer
    // answered with its own codec, consumed PCMA answered to the offerer, single-codec.
    const m = (i: number): string => outs[i]!.split('\r\n').find((l) => l.startsWith('m='))!;
    expect([m(0), m(2), m(3), m(5), m(6), m(7), m(13)]).toEqual([
      'm=audio PORT RTP/AVP 0 9 101', 'm=audio PORT RTP/AVP 0 8 9 96 97 101', 'm=audio PORT RTP/AVP 0 101', 'm=audio PORT RTP/AVP 0',
      'm=audio PORT RTP/AVP 0 101', 'm=audio PORT RTP/AVP 8 101', 'm=audio PORT RTP/AVP 8 101',
    ]);
    expect(outs[2]).toContain('a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/48000\r\na=fmtp:97 0-15\r\n');
    expect([outs[16], outs[17], outs[18], outs[19]].map((o) => o.split('\r\n').find((l) => l.startsWith('a=ptime')))).toEqual(['a=ptime:30', 'a=ptime:20', 'a=ptime:30', 'a=ptime:40']);
  });

  it('renegotiates codecs on re-INVITEs in both directions as rtpengine 10.5 (GH 1703, 1972)', async () => {
    const c = call();
    const offerer = sdp(...head(), ...audio(5100, '8 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15'));
    await c.offer(offerer, { codec: { transcode: ['PCMU', 'G722'] } });
    await c.answer(sdp(...head(), ...audio(5102, '0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15')));
    // The same offer again, then the callee's re-INVITE with another codec first.
    await c.offer(offerer, { codec: { transcode: ['PCMU', 'G722'] } });
    await c.answer(sdp(...head(), ...audio(5102, '9 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15')));
    const reverse = async (command: string, body: string): Promise<void> => {
      const d: Dict = { command, 'call-id': c.id, 'from-tag': 'callee', 'to-tag': 'caller', sdp: body };
      const [a, b] = await Promise.all([ours.ng.request(d), ref.ng.request(d)]);
      expect(norm(a['sdp'])).toBe(norm(b['sdp']));
    };
    await reverse('offer', sdp(...head(), ...audio(5102, '0 9 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15')));
    await reverse('answer', sdp(...head(), ...audio(5100, '9 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15')));
  });

  it('keeps rtcp-mux in the answer once a demuxed offer accepted it (gh 793)', async () => {
    const c = call();
    const mux = sdp(...head(), ...audio(2000, '0', 'a=sendrecv', 'a=rtcp-mux'));
    await c.offer(mux, { 'rtcp-mux': ['demux'], 'via-branch': 'x1' });
    await c.offer(mux, { 'rtcp-mux': ['offer'], 'via-branch': 'x2' });
    expect(await c.answer(sdp(...head(), ...audio(2002, '0', 'a=sendrecv')), { 'via-branch': 'x1' })).toContain('a=rtcp-mux');
  });
});

describe('what needs a transcoder', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const offerSdp = sdp(...head(), ...audio(3000, '0 8', 'a=ptime:20'));
  it('adds a transcode codec after the offered ones, as rtpengine 10.5 writes it; ignores offer of a codec not offered', async () => {
    const lines = async (codec: Dict): Promise<string[]> => {
      const r = await relay.ng.ok({ command: 'offer', 'call-id': `add-${process.pid}-${++seq}`, 'from-tag': 'a', sdp: offerSdp, codec });
      return String(r['sdp']).split('\r\n').filter((l) => /^(m=|a=rtpmap|a=fmtp|a=ptime)/.test(l)).map((l) => l.replace(/^m=audio \d+/, 'm=audio PORT'));
    };
    const base = ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000'];
    expect(await lines({ transcode: ['G722'] })).toEqual(['m=audio PORT RTP/AVP 0 8 9', ...base, 'a=rtpmap:9 G722/8000', 'a=ptime:20']);
    expect(await lines({ transcode: ['opus'] })).toEqual(['m=audio PORT RTP/AVP 0 8 96', ...base, 'a=rtpmap:96 opus/48000/2', 'a=ptime:20']);
    expect(await lines({ transcode: ['PCMA', 'G722'] })).toEqual(['m=audio PORT RTP/AVP 0 8 9', ...base, 'a=rtpmap:9 G722/8000', 'a=ptime:20']);
    expect(await lines({ offer: ['opus'] })).toEqual(['m=audio PORT RTP/AVP 0 8', ...base, 'a=ptime:20']);
  });
});
