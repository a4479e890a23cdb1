import dgram from 'node:dgram';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NgClient } from '../helpers/NgClient.js';
import { Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

// The NG transport and error texts against rtpengine 10.5 (rtpengine-behaviour.md §1.2, §1.3).
describe('ngrelay NG protocol', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const reason = async (dict: Record<string, unknown>): Promise<string> => {
    const r = await relay.ng.request(dict);
    expect(r['result'], JSON.stringify(r)).toBe('error');
    expect(Object.keys(r).sort()).toEqual(['error-reason', 'result']);
    return r['error-reason'] as string;
  };
  const rawReply = async (body: string): Promise<string> => (await relay.ng.raw(body)).toString('latin1');
  const sdp = audioSdp('127.0.0.1', 5000);

  it('answers ping in bencode and in JSON, each in its own encoding', async () => {
    expect((await relay.ng.raw('d7:command4:pinge')).toString()).toBe('d6:result4:ponge');
    expect((await relay.ng.raw('{"command":"ping"}')).toString()).toBe('{"result":"pong"}');
  });

  it('frames the reply as the same cookie, one space and the dict', async () => {
    const r = await relay.ng.datagram(Buffer.from('0_24043_0 d7:command4:pinge'));
    expect(r?.toString()).toBe('0_24043_0 d6:result4:ponge');
  });

  it('checks offer and answer keys in rtpengine order', async () => {
    expect(await reason({ command: 'offer' })).toBe('No SDP body in message');
    expect(await reason({ command: 'offer', 'call-id': 'x', 'from-tag': 'a' })).toBe('No SDP body in message');
    expect(await reason({ command: 'offer', sdp })).toBe('No call-id in message');
    expect(await reason({ command: 'offer', sdp, 'from-tag': 'a' })).toBe('No call-id in message');
    expect(await reason({ command: 'offer', sdp, 'call-id': 'x' })).toBe('No from-tag in message');
    expect(await reason({ command: 'answer', sdp, 'call-id': 'x', 'from-tag': 'a' })).toBe('No to-tag in message');
    expect(await reason({ command: 'answer', sdp, 'call-id': 'nope', 'from-tag': 'a', 'to-tag': 'b' })).toBe('Unknown call-id');
  });

  it("gives rtpengine's texts for bad commands and undecodable data", async () => {
    expect(await reason({ command: 'bogus' })).toBe('Unrecognized command');
    expect(await reason({ command: 'Ping' })).toBe('Unrecognized command');
    expect(await reason({ foo: 'bar' })).toBe('Dictionary contains no key "command"');
    expect(await rawReply('d3:foo')).toBe('d6:result5:error12:error-reason35:Could not decode bencode dictionarye');
    expect(await rawReply('xyz')).toBe('d6:result5:error12:error-reason22:Invalid NG data formate');
    expect(await rawReply('li1ee')).toBe('d6:result5:error12:error-reason22:Invalid NG data formate');
    expect(await rawReply('')).toBe('d6:result5:error12:error-reason25:Invalid data (no payload)e');
    expect(await rawReply('{bad json')).toBe('{"result":"error","error-reason":"Failed to parse JSON document"}');
  });

  it('rejects SDP it cannot parse and carries on', async () => {
    expect(await reason({ command: 'offer', sdp: 'garbage', 'call-id': 'bad-sdp', 'from-tag': 'a' })).toBe('Failed to parse SDP');
    expect(await reason({ command: 'offer', sdp: 'v=0\r\nm=audio 5 RTP/AVP 0\r\n', 'call-id': 'bad-sdp', 'from-tag': 'a' })).toBe('Incomplete SDP specification');
    // The failed offer left no call behind.
    expect(await relay.ng.request({ command: 'list' })).toEqual({ calls: [], result: 'ok' });
    expect(await reason({ command: 'query', 'call-id': 'bad-sdp' })).toBe('Unknown call-id');
  });

  it('gives query and list their errors', async () => {
    expect(await reason({ command: 'query' })).toBe('No call-id in message');
    expect(await reason({ command: 'query', 'call-id': 'nope' })).toBe('Unknown call-id');
    expect(await reason({ command: 'list', limit: -1 })).toBe('invalid limit, must be >= 0');
  });

  it('sends no reply to a packet without a space, or with the space first', async () => {
    expect(await relay.ng.datagram(Buffer.from('d7:command4:pinge'), 300)).toBeNull();
    expect(await relay.ng.datagram(Buffer.from(' d7:command4:pinge'), 300)).toBeNull();
  });

  it('survives garbage datagrams and still answers ping', async () => {
    const junk: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from([0x00, 0xff, 0x20, 0x64]),
      Buffer.from('c d'),
      Buffer.from('c d4:sdpi1ee'),
      Buffer.from('c d7:command5:offer3:sdpi5e7:call-idli1ee8:from-tagd1:a1:bee'),
      Buffer.from('c d7:command5:offer3:sdp3:v=07:call-id1:x8:from-tag1:ae'),
      Buffer.from('c d7:command6:answer3:sdpd1:ai1ee7:call-id1:x8:from-tag1:a6:to-tag1:be'),
      Buffer.from('c {"command":"offer","sdp":null,"call-id":{},"from-tag":[]}'),
      Buffer.from('c {"command":"delete","call-id":"x","delete-delay":"soon"}'),
      Buffer.from('c {"command":"list","limit":{"a":1}}'),
      Buffer.from('c {"command":["ping"]}'),
      Buffer.from('c d7:command4:ping' + 'l'.repeat(5000) + 'e'.repeat(5000) + 'e'),
      Buffer.from('c ' + '['.repeat(100000)),
      Buffer.from('c d7:command5:query7:call-id99999999:xe'),
      Buffer.from('c d7:command6:offer'),
      Buffer.from('c d7:command6:delete7:call-idi-1e5:flagsi3ee'),
      Buffer.from('c {"command":"offer","sdp":"v=0\\r\\nc=IN IP4 127.0.0.1\\r\\nm=audio 70000 RTP/AVP 0\\r\\n","call-id":"j","from-tag":"a"}'),
      Buffer.from('c {"command":"offer","direction":[1,2],"address family":5,"received-from":"IP4","replace":7,"rtcp-mux":{},"ICE":3,"sdp":"v=0\\r\\nc=IN IP4 127.0.0.1\\r\\nm=audio 7000 RTP/AVP 0\\r\\n","call-id":"j2","from-tag":"a"}'),
    ];
    for (let i = 0; i < 200; i++) junk.push(Buffer.from(`c${i} ` + String.fromCharCode(...Array.from({ length: 40 }, () => Math.floor(Math.random() * 256))), 'latin1'));
    const sock = dgram.createSocket('udp4');
    for (const j of junk) await new Promise<void>((r) => sock.send(j, relay.ngPort, '127.0.0.1', () => r()));
    sock.close();
    expect((await relay.ng.raw('d7:command4:pinge')).toString()).toBe('d6:result4:ponge');
    expect(relay.proc.exitCode).toBeNull();
    expect(relay.output).not.toContain('uncaught exception');
    expect(relay.output).not.toContain('internal error');
  });

  it('ignores unknown keys and flags', async () => {
    const r = await relay.ng.request({
      command: 'offer', sdp, 'call-id': 'unknown-keys', 'from-tag': 'a', 'no-such-key': 'x', nested: { a: [1, 2] },
      flags: ['no such flag', 'trust address', 'strange-flag'], 'transport protocol': 'RTP/AVP', label: 'caller',
    });
    expect(r['result']).toBe('ok');
    expect(r['sdp']).toContain('m=audio ');
    await relay.ng.ok({ command: 'delete', 'call-id': 'unknown-keys' });
  });

  it('replies to the source port of each request (one socket per Kamailio worker)', async () => {
    const a = new NgClient(relay.ngPort);
    const b = new NgClient(relay.ngPort);
    try {
      const [ra, rb] = await Promise.all([a.request({ command: 'ping' }), b.request({ command: 'ping' }, { json: true })]);
      expect(ra).toEqual({ result: 'pong' });
      expect(rb).toEqual({ result: 'pong' });
    } finally {
      a.close();
      b.close();
    }
  });

  it('answers a retransmitted request from the cookie cache, whatever it now says', async () => {
    const first = await relay.ng.raw(bencode.encode({ command: 'list' }), 'same-cookie');
    const again = await relay.ng.raw(bencode.encode({ command: 'ping' }), 'same-cookie');
    expect(again).toEqual(first);
    expect(first.toString()).toContain('5:calls');
  });

  it('gives two simultaneous datagrams with one cookie identical replies', async () => {
    const body = Buffer.from(bencode.encode({ command: 'offer', sdp, 'call-id': 'simultaneous', 'from-tag': 'a' }));
    const sock = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    const got = new Promise<void>((resolve) => sock.on('message', (m) => replies.push(m) === 2 && resolve()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const packet = Buffer.concat([Buffer.from('twin '), body]);
    sock.send(packet, relay.ngPort, '127.0.0.1');
    sock.send(packet, relay.ngPort, '127.0.0.1');
    await got;
    sock.close();
    expect(replies[0]).toEqual(replies[1]);
    expect(replies[0]!.toString()).toContain('6:result2:ok');
    await relay.ng.ok({ command: 'delete', 'call-id': 'simultaneous' });
  });
});
