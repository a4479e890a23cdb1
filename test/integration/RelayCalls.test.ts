import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dict } from '../helpers/NgClient.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { portsUsed } from '../helpers/health.js';
import { isUdpBound } from '../helpers/ports.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

// offer / answer / delete / query / list / statistics, shaped like Kamailio 5.6's requests
// (kamailio-ng-capture.md) and checked against rtpengine 10.5's replies (rtpengine-behaviour.md §1).

/** The caller's SDP from the capture, as Kamailio sends it. */
const CAPTURE_OFFER = [
  'v=0', 'o=uac 395173723 1 IN IP4 127.0.0.2', 's=e2e', 'c=IN IP4 127.0.0.2', 't=0 0',
  'm=audio 45000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20',
  'a=ice-ufrag:5627ouzr', 'a=ice-pwd:57cttqv287909qipk4ouwr1f',
  'a=candidate:1 1 UDP 2130706431 127.0.0.2 45000 typ host', 'a=candidate:1 2 UDP 2130706430 127.0.0.2 45001 typ host',
  'a=sendrecv', '',
].join('\r\n');
const CAPTURE_ANSWER = [
  'v=0', 'o=uas 57534134 2 IN IP4 127.0.0.3', 's=e2e', 'c=IN IP4 127.0.0.3', 't=0 0',
  'm=audio 45000 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20',
  'a=sendrecv', '',
].join('\r\n');

/** Exactly the keys Kamailio's rtpengine module sends with `replace-origin replace-session-connection ICE=remove`. */
function kamailio(command: string, callId: string, fromTag: string, extra: Dict = {}): Dict {
  const d: Dict = { supports: ['load limit'] };
  if (extra['sdp'] !== undefined) d['sdp'] = extra['sdp'];
  if (command !== 'delete') {
    d['ICE'] = 'remove';
    d['replace'] = ['origin', 'session-connection'];
  }
  d['call-id'] = callId;
  d['received-from'] = ['IP4', '127.0.0.1'];
  d['from-tag'] = fromTag;
  if (extra['to-tag'] !== undefined) d['to-tag'] = extra['to-tag'];
  d['command'] = command;
  return d;
}

const sdpOf = (r: Dict): ReturnType<typeof readSdp> => readSdp(r['sdp'] as string);
const portsOf = (r: Dict): number[] => sdpOf(r).medias.map((m) => m.port);

describe('ngrelay calls', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ interfaces: ['pub1/127.0.0.1', 'pub1/::1'], args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it("offers and answers Kamailio's capture and returns rtpengine's SDP with bound ports", async () => {
    const offer = await relay.ng.ok(kamailio('offer', 'kam-1', 'A', { sdp: CAPTURE_OFFER }));
    expect(Object.keys(offer).sort()).toEqual(['result', 'sdp']);
    const port = portsOf(offer)[0]!;
    expect(port % 2).toBe(0);
    expect(offer['sdp']).toBe([
      'v=0', 'o=uac 395173723 1 IN IP4 127.0.0.1', 's=e2e', 'c=IN IP4 127.0.0.1', 't=0 0',
      `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16',
      'a=sendrecv', `a=rtcp:${port + 1}`, 'a=ptime:20', '',
    ].join('\r\n'));
    expect(await isUdpBound('127.0.0.1', port)).toBe(true);
    expect(await isUdpBound('127.0.0.1', port + 1)).toBe(true);

    const answer = await relay.ng.ok(kamailio('answer', 'kam-1', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    const back = portsOf(answer)[0]!;
    expect(back).not.toBe(port);
    // Byte for byte what rtpengine 10.5 returned in the capture, ports aside.
    expect(answer['sdp']).toBe(['v=0', 'o=uas 57534134 2 IN IP4 127.0.0.1', 's=e2e', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${back} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', `a=rtcp:${back + 1}`, 'a=ptime:20', ''].join('\r\n'));
    expect(await isUdpBound('127.0.0.1', back)).toBe(true);
    expect(await isUdpBound('127.0.0.1', back + 1)).toBe(true);

    const del = await relay.ng.ok(kamailio('delete', 'kam-1', 'A'));
    expect(Object.keys(del).sort()).toEqual(['SSRC', 'created', 'created_us', 'last signal', 'result', 'tags', 'totals']);
    // delete-delay 0: the ports go back at once (closed, or kept bound for a call to come).
    expect(await portsUsed(relay)).toBe(0);
  });

  it('answers a retransmitted offer (same cookie) with the same bytes and no new ports', async () => {
    const body = bencode.encode(kamailio('offer', 'retrans', 'A', { sdp: CAPTURE_OFFER }));
    const first = await relay.ng.raw(body, 'retrans-cookie');
    const used = await portsUsed(relay);
    const again = await relay.ng.raw(body, 'retrans-cookie');
    expect(again).toEqual(first);
    expect(await portsUsed(relay)).toBe(used);
    await relay.ng.ok(kamailio('delete', 'retrans', 'A'));
  });

  it('keeps ports on a re-offer, and a repeated answer is harmless', async () => {
    const used0 = await portsUsed(relay);
    const o1 = await relay.ng.ok(kamailio('offer', 'reinv', 'A', { sdp: CAPTURE_OFFER }));
    const a1 = await relay.ng.ok(kamailio('answer', 'reinv', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    const used = await portsUsed(relay);
    expect(used - used0).toBe(4 * 1);
    const a2 = await relay.ng.ok(kamailio('answer', 'reinv', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    expect(a2['sdp']).toBe(a1['sdp']);
    const hold = await relay.ng.ok(kamailio('offer', 'reinv', 'A', { sdp: audioSdp('127.0.0.2', 45000, { direction: 'sendonly' }), 'to-tag': 'B' }));
    expect(portsOf(hold)).toEqual(portsOf(o1));
    expect(sdpOf(hold).medias[0]!.direction).toBe('sendonly');
    const held = await relay.ng.ok(kamailio('answer', 'reinv', 'A', { sdp: audioSdp('127.0.0.3', 45000, { direction: 'recvonly' }), 'to-tag': 'B' }));
    expect(portsOf(held)).toEqual(portsOf(a1));
    expect(sdpOf(held).medias[0]!.direction).toBe('recvonly');
    expect(await portsUsed(relay)).toBe(used);
    await relay.ng.ok(kamailio('delete', 'reinv', 'A'));
    expect(await portsUsed(relay)).toBe(used0);
  });

  it("matches parties by tag both ways: a callee's re-INVITE gets the caller-side port", async () => {
    const o = await relay.ng.ok(kamailio('offer', 'callee-reinv', 'A', { sdp: CAPTURE_OFFER }));
    const a = await relay.ng.ok(kamailio('answer', 'callee-reinv', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    // The callee (B) now offers towards the caller (A): the SDP goes to A, so A's port on the relay.
    const ro = await relay.ng.ok(kamailio('offer', 'callee-reinv', 'B', { sdp: audioSdp('127.0.0.3', 45000, { direction: 'sendonly' }), 'to-tag': 'A' }));
    expect(portsOf(ro)).toEqual(portsOf(a));
    const ra = await relay.ng.ok(kamailio('answer', 'callee-reinv', 'B', { sdp: audioSdp('127.0.0.2', 45000, { direction: 'recvonly' }), 'to-tag': 'A' }));
    expect(portsOf(ra)).toEqual(portsOf(o));
    const q = await relay.ng.ok({ command: 'query', 'call-id': 'callee-reinv' });
    expect(Object.keys(q['tags'] as Dict).sort()).toEqual(['A', 'B']);
    // The BYE comes from the callee.
    const del = await relay.ng.ok(kamailio('delete', 'callee-reinv', 'B'));
    expect(del['warning']).toBeUndefined();
    expect((await relay.ng.request({ command: 'list' }))['calls']).not.toContain('callee-reinv');
  });

  it('returns ok + warning for deleting an unknown call, an error with flag fatal', async () => {
    expect(await relay.ng.request(kamailio('delete', 'never-was', 'A'))).toEqual({ warning: "Call-ID not found or tags didn't match", result: 'ok' });
    expect(await relay.ng.request({ command: 'delete', 'call-id': 'never-was', flags: ['fatal'] }))
      .toEqual({ result: 'error', 'error-reason': "Call-ID not found or tags didn't match" });
    await relay.ng.ok(kamailio('offer', 'tagged', 'A', { sdp: CAPTURE_OFFER }));
    expect(await relay.ng.request(kamailio('delete', 'tagged', 'Z'))).toEqual({ warning: "Call-ID not found or tags didn't match", result: 'ok' });
    await relay.ng.ok(kamailio('delete', 'tagged', 'A'));
  });

  it("reports a query in rtpengine 10.5's structure", async () => {
    await relay.ng.ok(kamailio('offer', 'q1', 'A', { sdp: CAPTURE_OFFER }));
    const a = await relay.ng.ok(kamailio('answer', 'q1', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    const q = await relay.ng.ok({ command: 'query', 'call-id': 'q1' });
    expect(Object.keys(q).sort()).toEqual(['SSRC', 'created', 'created_us', 'last signal', 'result', 'tags', 'totals']);
    expect(q['SSRC']).toEqual({});
    expect(Math.abs((q['created'] as number) - Date.now() / 1000)).toBeLessThan(60);
    expect(q['created_us']).toBeGreaterThanOrEqual(0);
    expect(q['created_us']).toBeLessThan(1_000_000);
    expect(q['totals']).toEqual({ RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } });
    const tags = q['tags'] as Record<string, Dict>;
    const caller = tags['A']!;
    expect(caller['tag']).toBe('A');
    expect(caller['subscriptions']).toEqual([{ tag: 'B', type: 'offer/answer' }]);
    expect(caller['subscribers']).toEqual([{ tag: 'B', type: 'offer/answer' }]);
    const media = (caller['medias'] as Dict[])[0]!;
    expect(media).toMatchObject({ index: 1, type: 'audio', protocol: 'RTP/AVP' });
    expect(media['flags']).toEqual(expect.arrayContaining(['initialized', 'send', 'recv']));
    const [rtp, rtcp] = media['streams'] as Dict[];
    // The caller's streams are where the relay hears it: the port the answer gave it.
    expect(rtp).toMatchObject({ 'local port': portsOf(a)[0], 'local address': '127.0.0.1', family: 'IPv4', 'advertised endpoint': { family: 'IPv4', address: '127.0.0.2', port: 45000 } });
    expect(rtp!['flags']).toEqual(expect.arrayContaining(['RTP', 'filled']));
    expect(rtp!['stats']).toEqual({ packets: 0, bytes: 0, errors: 0 });
    expect(rtcp).toMatchObject({ 'local port': portsOf(a)[0]! + 1, 'advertised endpoint': { address: '127.0.0.2', port: 45001 } });
    expect(rtcp!['flags']).toEqual(expect.arrayContaining(['RTCP']));
    // from-tag narrows the report to that party.
    const only = await relay.ng.ok({ command: 'query', 'call-id': 'q1', 'from-tag': 'B' });
    expect(Object.keys(only['tags'] as Dict)).toEqual(['B']);
    await relay.ng.ok(kamailio('delete', 'q1', 'A'));
  });

  it('reports the callee of an unanswered offer as rtpengine does: untagged, endpoint unknown', async () => {
    await relay.ng.ok(kamailio('offer', 'q-offer-only', 'A', { sdp: CAPTURE_OFFER }));
    const q = await relay.ng.ok({ command: 'query', 'call-id': 'q-offer-only' });
    const tags = q['tags'] as Record<string, Dict>;
    expect(Object.keys(tags)).toEqual(['A', '<untagged 1>']);
    expect(tags['<untagged 1>']!['tag']).toBe('');
    expect(tags['A']!['subscriptions']).toEqual([{ tag: '', type: 'offer/answer' }]);
    const stream = ((tags['<untagged 1>']!['medias'] as Dict[])[0]!['streams'] as Dict[])[0]!;
    expect(stream['endpoint']).toEqual({});
    expect(stream['advertised endpoint']).toEqual({});
    expect(stream['flags']).toEqual(['RTP']);
    const callerStream = ((tags['A']!['medias'] as Dict[])[0]!['streams'] as Dict[])[0]!;
    expect(callerStream['endpoint']).toEqual({ family: 'IPv4', address: '127.0.0.2', port: 45000 });
    await relay.ng.ok(kamailio('delete', 'q-offer-only', 'A'));
  });

  it('changes the RTP profile with "transport protocol"; "accept" gives the offerer its own back, or the answerer\'s change', async () => {
    const o = await relay.ng.ok({ ...kamailio('offer', 'proto', 'A', { sdp: CAPTURE_OFFER }), 'transport protocol': 'RTP/AVPF' });
    expect(sdpOf(o).lines).toContain(`m=audio ${portsOf(o)[0]} RTP/AVPF 0 101`);
    const avpf = CAPTURE_ANSWER.replace('RTP/AVP', 'RTP/AVPF');
    const a = await relay.ng.ok({ ...kamailio('answer', 'proto', 'A', { sdp: avpf, 'to-tag': 'B' }), 'transport-protocol': 'accept' });
    expect(sdpOf(a).lines).toContain(`m=audio ${portsOf(a)[0]} RTP/AVP 0 101`);
    const srtp = await relay.ng.ok({ ...kamailio('offer', 'proto-srtp', 'A', { sdp: CAPTURE_OFFER }), 'transport protocol': 'RTP/SAVP' });
    expect(sdpOf(srtp).lines).toContain(`m=audio ${portsOf(srtp)[0]} RTP/SAVP 0 101`);
    expect(sdpOf(srtp).lines.filter((l) => l.startsWith('a=crypto:'))).toHaveLength(12);
    // An answerer that changes the profile it was offered (RTP/SAVP to RTP/SAVPF): "accept" passes
    // the change on; the offerer offered no keys, so it gets none.
    const tag = /^a=crypto:(\d+) AES_CM_128_HMAC_SHA1_80 /m.exec(String(srtp['sdp']))![1];
    const savpf = CAPTURE_ANSWER.replace('RTP/AVP', 'RTP/SAVPF') + `a=crypto:${tag} AES_CM_128_HMAC_SHA1_80 inline:05sglrIFGQuJpqOblofVYYh+PF93dGyOjFW6Q934\r\n`;
    const changed = await relay.ng.ok({ ...kamailio('answer', 'proto-srtp', 'A', { sdp: savpf, 'to-tag': 'B' }), 'transport-protocol': 'accept' });
    expect(sdpOf(changed).lines).toContain(`m=audio ${portsOf(changed)[0]} RTP/SAVPF 0 101`);
    expect(sdpOf(changed).lines.filter((l) => l.startsWith('a=crypto:'))).toEqual([]);
    // A name rtpengine 10.5 does not know (its suite sends `transparent`) leaves the profile as it was, as there;
    // T.38's, which it knows, is refused.
    const unknown = await relay.ng.ok({ ...kamailio('offer', 'proto-unknown', 'A', { sdp: CAPTURE_OFFER }), 'transport protocol': 'transparent' });
    expect(sdpOf(unknown).lines).toContain(`m=audio ${portsOf(unknown)[0]} RTP/AVP 0 101`);
    const lower = await relay.ng.ok({ ...kamailio('offer', 'proto-lower', 'A', { sdp: CAPTURE_OFFER }), 'transport protocol': 'rtp/avpf' });
    expect(sdpOf(lower).lines).toContain(`m=audio ${portsOf(lower)[0]} RTP/AVPF 0 101`);
    expect(await relay.ng.request({ ...kamailio('offer', 'proto-bad', 'A', { sdp: CAPTURE_OFFER }), 'transport protocol': 'UDPTL' }))
      .toEqual({ result: 'error', 'error-reason': "Unsupported transport protocol 'UDPTL'" });
    await relay.ng.ok(kamailio('delete', 'proto-unknown', 'A'));
    await relay.ng.ok(kamailio('delete', 'proto-lower', 'A'));
    await relay.ng.ok(kamailio('delete', 'proto', 'A'));
    await relay.ng.ok(kamailio('delete', 'proto-srtp', 'A'));
  });

  it('lists calls with a limit, and accepts a JSON list request', async () => {
    for (const id of ['l1', 'l2', 'l3']) await relay.ng.ok(kamailio('offer', id, 'A', { sdp: CAPTURE_OFFER }));
    expect(((await relay.ng.ok({ command: 'list' }))['calls'] as string[]).sort()).toEqual(['l1', 'l2', 'l3']);
    expect((await relay.ng.ok({ command: 'list', limit: 2 }))['calls']).toHaveLength(2);
    expect((await relay.ng.ok({ command: 'list', limit: '1' }))['calls']).toHaveLength(1);
    expect((await relay.ng.ok({ command: 'list', limit: 0 }))['calls']).toEqual([]);
    expect(((await relay.ng.request({ command: 'list' }, { json: true }))['calls'] as string[]).sort()).toEqual(['l1', 'l2', 'l3']);
    for (const id of ['l1', 'l2', 'l3']) await relay.ng.ok(kamailio('delete', id, 'A'));
  });

  it('reports statistics', async () => {
    await relay.ng.ok(kamailio('offer', 'st1', 'A', { sdp: CAPTURE_OFFER }));
    await relay.ng.ok({ command: 'statistics' });
    const r = await relay.ng.ok({ command: 'statistics' });
    const st = r['statistics'] as Record<string, Dict>;
    expect(Object.keys(st)).toEqual(expect.arrayContaining(['currentstatistics', 'totalstatistics', 'controlstatistics']));
    expect(st['currentstatistics']).toMatchObject({ sessionsown: 1, sessionsforeign: 0, sessionstotal: 1 });
    expect(st['totalstatistics']!['managedsessions']).toBeGreaterThanOrEqual(1);
    expect(st['totalstatistics']!['uptime']).toBeGreaterThanOrEqual(0);
    // rtpengine's controlstatistics: per proxy IP, short command names, durations as strings.
    const control = st['controlstatistics']!;
    const proxies = control['proxies'] as Dict[];
    expect(proxies.map((p) => p['proxy'])).toEqual(['127.0.0.1']);
    expect(proxies[0]!['offercount']).toBeGreaterThanOrEqual(1);
    expect(proxies[0]!['offerduration']).toMatch(/^\d+\.\d{6}$/);
    expect(proxies[0]!['errorcount']).toBeGreaterThanOrEqual(0);
    expect(control['totaloffercount']).toBe(proxies[0]!['offercount']);
    expect(control['totalstatscount']).toBeGreaterThanOrEqual(1);
    expect(st['totalstatistics']!['avgcallduration']).toMatch(/^\d+\.\d{6}$/);
    await relay.ng.ok(kamailio('delete', 'st1', 'A'));
  });

  it('limits sessions: "load limit" for clients that support it, an error for others', async () => {
    expect(await relay.cli('set maxsessions 1')).toBe('Success setting maxsessions to 1\n');
    try {
      await relay.ng.ok(kamailio('offer', 'lim1', 'A', { sdp: CAPTURE_OFFER }));
      expect(await relay.ng.request(kamailio('offer', 'lim2', 'A', { sdp: CAPTURE_OFFER })))
        .toEqual({ result: 'load limit', message: 'Parallel session limit reached' });
      expect(await relay.ng.request({ command: 'offer', sdp: CAPTURE_OFFER, 'call-id': 'lim2', 'from-tag': 'A' }))
        .toEqual({ result: 'error', 'error-reason': 'Parallel session limit reached' });
      // A call that exists already is not a new session.
      await relay.ng.ok(kamailio('answer', 'lim1', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
      await relay.ng.ok(kamailio('offer', 'lim1', 'A', { sdp: CAPTURE_OFFER, 'to-tag': 'B' }));
      expect((await relay.ng.ok({ command: 'list' }))['calls']).toEqual(['lim1']);
    } finally {
      expect(await relay.cli('set maxsessions -1')).toBe('Success setting maxsessions to -1; disable feature\n');
    }
    await relay.ng.ok(kamailio('delete', 'lim1', 'A'));
  });

  it('relays audio + video, keeping a rejected m= line at port 0', async () => {
    const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.2', 's=-', 'c=IN IP4 127.0.0.2', 't=0 0',
      'm=audio 45000 RTP/AVP 0', 'a=sendrecv', 'm=video 45002 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'm=video 0 RTP/AVP 97', ''].join('\r\n');
    const o = await relay.ng.ok(kamailio('offer', 'av', 'A', { sdp }));
    const out = sdpOf(o);
    expect(out.medias.map((m) => m.type)).toEqual(['audio', 'video', 'video']);
    const [audio, video, rejected] = out.medias;
    expect(audio!.port).not.toBe(video!.port);
    expect(rejected!.port).toBe(0);
    for (const m of [audio!, video!]) {
      expect(m.rtcpPort).toBe(m.port + 1);
      expect(await isUdpBound('127.0.0.1', m.port)).toBe(true);
    }
    const answer = ['v=0', 'o=- 2 1 IN IP4 127.0.0.3', 's=-', 'c=IN IP4 127.0.0.3', 't=0 0',
      'm=audio 46000 RTP/AVP 0', 'm=video 0 RTP/AVP 96', 'm=video 0 RTP/AVP 97', ''].join('\r\n');
    const a = await relay.ng.ok(kamailio('answer', 'av', 'A', { sdp: answer, 'to-tag': 'B' }));
    expect(portsOf(a)[0]).toBeGreaterThan(0);
    expect(portsOf(a).slice(1)).toEqual([0, 0]);
    const q = await relay.ng.ok({ command: 'query', 'call-id': 'av' });
    expect(((q['tags'] as Record<string, Dict>)['A']!['medias'] as Dict[]).map((m) => m['type'])).toEqual(['audio', 'video', 'video']);
    await relay.ng.ok(kamailio('delete', 'av', 'A'));
  });

  it('opens ports again, as rtpengine does, for media one side refused and the other now takes up', async () => {
    const sdp = (ip: string, video: number): string =>
      ['v=0', `o=- 1 1 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', 'm=audio 45000 RTP/AVP 0', `m=video ${video} RTP/AVP 96`, ''].join('\r\n');
    // The answer takes up video the offer refused.
    await relay.ng.ok(kamailio('offer', 'revive-1', 'A', { sdp: sdp('127.0.0.2', 0) }));
    const a = await relay.ng.ok(kamailio('answer', 'revive-1', 'A', { sdp: sdp('127.0.0.3', 46002), 'to-tag': 'B' }));
    expect(portsOf(a)[1]).toBeGreaterThan(0);
    expect(await isUdpBound('127.0.0.1', portsOf(a)[1]!)).toBe(true);
    // A re-INVITE brings back video the callee had refused.
    await relay.ng.ok(kamailio('offer', 'revive-2', 'A', { sdp: sdp('127.0.0.2', 45002) }));
    expect(portsOf(await relay.ng.ok(kamailio('answer', 'revive-2', 'A', { sdp: sdp('127.0.0.3', 0), 'to-tag': 'B' })))[1]).toBe(0);
    const reoffer = await relay.ng.ok(kamailio('offer', 'revive-2', 'A', { sdp: sdp('127.0.0.2', 45002) }));
    expect(portsOf(reoffer)[1]).toBeGreaterThan(0);
    const reanswer = await relay.ng.ok(kamailio('answer', 'revive-2', 'A', { sdp: sdp('127.0.0.3', 46002), 'to-tag': 'B' }));
    expect(await isUdpBound('127.0.0.1', portsOf(reanswer)[1]!)).toBe(true);
    for (const id of ['revive-1', 'revive-2']) await relay.ng.ok(kamailio('delete', id, 'A'));
  });

  it('deletes one branch by its tag and keeps the dialogue that was answered (rtpengine GH 1086)', async () => {
    const sdp = (port: number): string => audioSdp('127.0.0.2', port);
    const id = 'gh1086';
    await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'ft1', 'via-branch': 'foo', sdp: sdp(2000) });
    await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'ft2', 'via-branch': 'bar', sdp: sdp(2100) });
    const portA = portsOf(await relay.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': 'ft2', 'to-tag': 'tt', 'via-branch': 'bar', sdp: sdp(2200) }))[0]!;
    const used = await portsUsed(relay);
    await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'ft1' });
    // ft1's ports are gone; the call goes on.
    expect(await portsUsed(relay)).toBe(used - 2);
    expect(await relay.cli('list numsessions')).toContain('Current sessions own: 1\n');
    // The callee re-INVITEs towards a new tag: new ports; then towards ft2 again: ft2's ports.
    const portB = portsOf(await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'tt', 'to-tag': 'ft3', 'via-branch': 'blah', sdp: sdp(2200) }))[0]!;
    expect(portB).not.toBe(portA);
    const portC = portsOf(await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'tt', 'to-tag': 'ft2', 'via-branch': 'baz', sdp: sdp(2200) }))[0]!;
    expect(portC).toBe(portA);
    // Without a tag the whole call goes.
    await relay.ng.ok({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
    expect(await relay.cli('list numsessions')).toContain('Current sessions own: 0\n');
  });

  it('deletes one via-branch of a forked offer at once and answers the other', async () => {
    const sdp = (port: number): string => audioSdp('127.0.0.2', port);
    const id = 'fork-branch';
    await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'A', 'via-branch': 'b.0', sdp: sdp(2300) });
    await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'A', 'via-branch': 'b.1', sdp: sdp(2300) });
    await relay.ng.ok({ command: 'delete', 'call-id': id, 'from-tag': 'A', 'via-branch': 'b.1', 'delete-delay': 0 });
    const a = await relay.ng.ok({ command: 'answer', 'call-id': id, 'from-tag': 'A', 'to-tag': 'B', 'via-branch': 'b.0', sdp: sdp(2400) });
    expect(portsOf(a)).toHaveLength(1);
    // The last branch of an unanswered offer takes the call with it.
    await relay.ng.ok({ command: 'offer', 'call-id': 'fork-last', 'from-tag': 'A', 'via-branch': 'c.0', sdp: sdp(2300) });
    await relay.ng.ok({ command: 'delete', 'call-id': 'fork-last', 'from-tag': 'A', 'via-branch': 'c.0', 'delete-delay': 0 });
    expect((await relay.ng.request({ command: 'query', 'call-id': 'fork-last' }))['error-reason']).toBe('Unknown call-id');
    await relay.ng.ok({ command: 'delete', 'call-id': id, 'delete-delay': 0 });
  });

  it('reads "SDES" only as a list, as rtpengine 10.5 does: "SDES: off" as a string changes nothing', async () => {
    const offer = (id: string, sdes: unknown): Promise<Dict> =>
      relay.ng.ok({ ...kamailio('offer', id, 'A', { sdp: CAPTURE_OFFER }), 'transport-protocol': 'RTP/SAVP', DTLS: 'off', SDES: sdes });
    expect(sdpOf(await offer('sdes-string', 'off')).lines.filter((l) => l.startsWith('a=crypto:'))).toHaveLength(12);
    expect(sdpOf(await offer('sdes-list', ['off'])).lines.filter((l) => l.startsWith('a=crypto:'))).toEqual([]);
    await relay.ng.ok(kamailio('delete', 'sdes-string', 'A'));
    await relay.ng.ok(kamailio('delete', 'sdes-list', 'A'));
  });

  it('offers IPv6 with "address family: IP6" on a ::1 interface', async () => {
    const o = await relay.ng.ok({ ...kamailio('offer', 'v6', 'A', { sdp: CAPTURE_OFFER }), 'address family': 'IP6' });
    const out = sdpOf(o);
    expect(out.lines).toContain('c=IN IP6 ::1');
    expect(out.lines).toContain('o=uac 395173723 1 IN IP6 ::1');
    expect(await isUdpBound('::1', out.medias[0]!.port)).toBe(true);
    // The IPv6 callee answers; the IPv4 caller gets an IPv4 address back.
    const a = await relay.ng.ok(kamailio('answer', 'v6', 'A', { sdp: audioSdp('::1', 46000), 'to-tag': 'B' }));
    expect(sdpOf(a).lines).toContain('c=IN IP4 127.0.0.1');
    expect(await relay.cli('list numsessions')).toContain('Current sessions ip mixed  media: 1\n');
    await relay.ng.ok(kamailio('delete', 'v6', 'A'));
  });

  it('takes the media address from "received from" with flag "SIP source address"; "media address" is the address the relay writes in its SDP', async () => {
    const endpointOf = async (callId: string): Promise<unknown> => {
      const q = await relay.ng.ok({ command: 'query', 'call-id': callId, 'from-tag': 'A' });
      const media = ((q['tags'] as Record<string, Dict>)['A']!['medias'] as Dict[])[0]!;
      return ((media['streams'] as Dict[])[0]!['advertised endpoint'] as Dict)['address'];
    };
    await relay.ng.ok({ command: 'offer', sdp: audioSdp('192.0.2.50', 45000), 'call-id': 'sip-src', 'from-tag': 'A', 'received-from': ['IP4', '127.0.0.7'], flags: ['SIP source address'] });
    expect(await endpointOf('sip-src')).toBe('127.0.0.7');
    await relay.ng.ok({ command: 'offer', sdp: audioSdp('192.0.2.50', 45000), 'call-id': 'no-flag', 'from-tag': 'A', 'received-from': ['IP4', '127.0.0.7'] });
    expect(await endpointOf('no-flag')).toBe('192.0.2.50');
    // As rtpengine 10.5: the sender's endpoint stays its SDP's; c= and a=rtcp name the given address.
    const o = await relay.ng.ok({ command: 'offer', sdp: audioSdp('192.0.2.50', 45000), 'call-id': 'media-addr', 'from-tag': 'A', 'media address': '127.0.0.8', flags: ['full-rtcp-attribute'] });
    expect(await endpointOf('media-addr')).toBe('192.0.2.50');
    expect(String(o['sdp'])).toMatch(/^c=IN IP4 127\.0\.0\.8\r\n[^]*^a=rtcp:\d+ IN IP4 127\.0\.0\.8\r$/m);
    for (const id of ['sip-src', 'no-flag', 'media-addr']) await relay.ng.ok({ command: 'delete', 'call-id': id });
  });

  it('delays the end of a deleted call by the "delete-delay" key', async () => {
    const o = await relay.ng.ok(kamailio('offer', 'dd-key', 'A', { sdp: CAPTURE_OFFER }));
    await relay.ng.ok({ ...kamailio('delete', 'dd-key', 'A'), 'delete-delay': 1 });
    expect(await relay.cli('list sessions all')).toMatch(/callid: +dd-key \| deletionmark: yes \|/);
    expect(await isUdpBound('127.0.0.1', portsOf(o)[0]!)).toBe(true);
    // A retransmitted BYE (new cookie) still gets the stats.
    expect((await relay.ng.ok({ ...kamailio('delete', 'dd-key', 'A'), 'delete-delay': 1 }))['tags']).toBeDefined();
    await waitFor('the deleted call to go', async () => !(await relay.cli('list sessions all')).includes(' dd-key |'), 5000);
    expect(await portsUsed(relay)).toBe(0);
  });
});

describe('ngrelay delete-delay option and named interfaces', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ interfaces: ['int/127.0.0.1', 'ext/127.0.0.2'], args: ['--delete-delay=30'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('keeps a deleted call (deletionmark yes, ports bound) for delete-delay; key 0 frees at once', async () => {
    const o = await relay.ng.ok(kamailio('offer', 'dd-opt', 'A', { sdp: CAPTURE_OFFER }));
    await relay.ng.ok(kamailio('delete', 'dd-opt', 'A'));
    expect(await relay.cli('list sessions all')).toMatch(/callid: +dd-opt \| deletionmark: yes \|/);
    expect(await relay.cli('list sessions dd-opt')).toContain('\ndeletionmark: yes\n');
    expect(await isUdpBound('127.0.0.1', portsOf(o)[0]!)).toBe(true);
    await relay.ng.ok({ ...kamailio('delete', 'dd-opt', 'A'), 'delete-delay': 0 });
    expect(await relay.cli('list sessions all')).toBe('No sessions on this media relay.\n');
    expect(await portsUsed(relay)).toBe(0);

    const o2 = await relay.ng.ok(kamailio('offer', 'dd-zero', 'A', { sdp: CAPTURE_OFFER }));
    expect(await portsUsed(relay)).toBe(4);
    await relay.ng.ok({ ...kamailio('delete', 'dd-zero', 'A'), 'delete delay': 0 });
    expect(await portsUsed(relay)).toBe(0);
  });

  it('puts each side on its interface with "direction"', async () => {
    const o = await relay.ng.ok({ ...kamailio('offer', 'dir', 'A', { sdp: CAPTURE_OFFER }), direction: ['int', 'ext'] });
    // The offer goes to the callee, on "ext".
    expect(sdpOf(o).lines).toContain('c=IN IP4 127.0.0.2');
    expect(await isUdpBound('127.0.0.2', portsOf(o)[0]!)).toBe(true);
    const a = await relay.ng.ok(kamailio('answer', 'dir', 'A', { sdp: CAPTURE_ANSWER, 'to-tag': 'B' }));
    expect(sdpOf(a).lines).toContain('c=IN IP4 127.0.0.1');
    expect(await isUdpBound('127.0.0.1', portsOf(a)[0]!)).toBe(true);
    // Remembered per party: a re-offer without direction stays put.
    const ro = await relay.ng.ok(kamailio('offer', 'dir', 'A', { sdp: CAPTURE_OFFER, 'to-tag': 'B' }));
    expect(sdpOf(ro).lines).toContain('c=IN IP4 127.0.0.2');
    expect(portsOf(ro)).toEqual(portsOf(o));
    expect(await relay.ng.request({ ...kamailio('offer', 'dir2', 'A', { sdp: CAPTURE_OFFER }), direction: ['int', 'nope'] }))
      .toMatchObject({ result: 'error' });
    await relay.ng.ok({ ...kamailio('delete', 'dir', 'A'), 'delete-delay': 0 });
  });
});
