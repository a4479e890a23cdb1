import net from 'node:net';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNgBody } from '../helpers/NgClient.js';
import { freePort } from '../helpers/ports.js';
import { clientFrame, RawWebSocket } from '../helpers/RawWebSocket.js';
import { Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

/** A TCP connection to the NG port collecting what comes back. */
async function tcp(port: number): Promise<{ sock: net.Socket; received: () => Buffer; closed: Promise<void> }> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  let got = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  return { sock, received: () => got, closed };
}

/** `COOKIE SP DICT` replies back to back in `bytes`, each split and decoded. */
function replies(bytes: Buffer): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const sp = rest.indexOf(0x20);
    const cookie = rest.toString('latin1', 0, sp);
    // Re-encoding the decoded dict gives its length (replies are canonical enough for that).
    const dict = decodeNgBody(rest.subarray(sp + 1));
    const len = Buffer.from(bencode.encode(dict)).length;
    out.push([cookie, dict]);
    rest = rest.subarray(sp + 1 + len);
  }
  return out;
}

async function until<T>(what: string, get: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const msg = (cookie: string, dict: Record<string, unknown>): Buffer => Buffer.concat([Buffer.from(`${cookie} `), Buffer.from(bencode.encode(dict))]);

describe('NG over TCP (listen-tcp-ng) and over WebSocket and HTTP (listen-http)', () => {
  let relay: Relay;
  let tcpPort: number;
  let httpPort: number;
  beforeAll(async () => {
    tcpPort = await freePort();
    httpPort = await freePort();
    relay = await Relay.start({ args: ['--delete-delay=0', `--listen-tcp-ng=127.0.0.1:${tcpPort}`, `--listen-http=127.0.0.1:${httpPort}`] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('TCP: messages back to back, split anywhere, each answered with its cookie; one cookie cache with UDP', async () => {
    const c = await tcp(tcpPort);
    const sdp = audioSdp('127.0.0.1', 40000);
    const offer = msg('t1', { command: 'offer', 'call-id': 'tcp-call', 'from-tag': 'a', sdp, 'rtpp-flags': 'replace-origin ICE=remove' });
    const both = Buffer.concat([msg('t0', { command: 'ping' }), offer, Buffer.from('\r\n'), msg('t2', { command: 'query', 'call-id': 'tcp-call' })]);
    // One byte at a time for the first 40, then the rest in one piece.
    for (let i = 0; i < 40; i++) c.sock.write(both.subarray(i, i + 1));
    c.sock.write(both.subarray(40));
    const got = await until('three replies', () => {
      const r = replies(c.received());
      return r.length === 3 && r;
    });
    expect(got.map(([cookie]) => cookie).sort()).toEqual(['t0', 't1', 't2']);
    const byCookie = new Map(got);
    expect(byCookie.get('t0')).toEqual({ result: 'pong' });
    expect(byCookie.get('t1')!['result']).toBe('ok');
    expect(String(byCookie.get('t1')!['sdp'])).toMatch(/^m=audio \d+ RTP\/AVP 0 101$/m);
    // The same cookie over UDP is the same request: the cached reply, not a second call.
    const again = await relay.ng.raw(offer.subarray(3), 't1');
    expect(decodeNgBody(again)).toEqual(byCookie.get('t1'));
    c.sock.end();
    await relay.ng.ok({ command: 'delete', 'call-id': 'tcp-call', 'from-tag': 'a' });
  });

  it('TCP: JSON and broken bencode get rtpengine\'s errors and the connection closes; an endless message is cut off; the relay goes on', async () => {
    for (const [body, reason] of [['{"command":"ping"}', 'Invalid NG data format'], ['d3:abXe', 'Could not decode bencode dictionary'], ['d7:command4:pingi5ee', 'Could not decode bencode dictionary']] as const) {
      const c = await tcp(tcpPort);
      c.sock.write(`bad ${body}`);
      await c.closed;
      expect(replies(c.received())).toEqual([['bad', { result: 'error', 'error-reason': reason }]]);
    }
    const big = await tcp(tcpPort);
    big.sock.write('huge d5:abcde70000:');
    big.sock.write(Buffer.alloc(66_000, 0x41));
    await big.closed;
    expect(big.received().length).toBe(0);
    const deep = await tcp(tcpPort);
    deep.sock.write(`deep ${'l'.repeat(70_000)}`);
    await deep.closed;
    const c = await tcp(tcpPort);
    c.sock.write(msg('alive', { command: 'ping' }));
    await until('pong', () => replies(c.received()).length === 1);
    expect(replies(c.received())).toEqual([['alive', { result: 'pong' }]]);
    c.sock.end();
  });

  it('WebSocket ng.rtpengine.com: each message answered by one binary message; fragments, ping; POST /ng and GET /ping', async () => {
    const ws = await RawWebSocket.open(httpPort, 'ng.rtpengine.com');
    expect(ws.response).toMatch(/^HTTP\/1\.1 101 /);
    expect(ws.response).toMatch(/Sec-WebSocket-Protocol: ng\.rtpengine\.com/i);
    ws.send('w1 d7:command4:pinge');
    // A message in three fragments (binary, continuation, continuation), a ping between them.
    const parts = [Buffer.from('w2 d7:comm'), Buffer.from('and4:pi'), Buffer.from('nge')];
    ws.write(clientFrame(0x2, parts[0]!, false));
    ws.write(clientFrame(0x0, parts[1]!, false));
    ws.write(clientFrame(0x9, Buffer.from('hi')));
    ws.write(clientFrame(0x0, parts[2]!, true));
    ws.send('w3 {"command":"ping"}');
    const frames = await ws.waitFrames(4);
    expect(frames.map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [0x2, 'w1 d6:result4:ponge'],
      [0xa, 'hi'],
      [0x2, 'w2 d6:result4:ponge'],
      [0x2, 'w3 {"result":"pong"}'],
    ]);
    ws.close();
    const post = await fetch(`http://127.0.0.1:${httpPort}/ng`, { method: 'POST', headers: { 'Content-Type': 'application/x-rtpengine-ng' }, body: 'h1 d7:command4:pinge' });
    expect([post.status, post.headers.get('content-type'), await post.text()]).toEqual([200, 'application/x-rtpengine-ng', 'h1 d6:result4:ponge']);
    const ping = await fetch(`http://127.0.0.1:${httpPort}/ping`);
    expect(await ping.text()).toBe('pong\n');
  });

  it('WebSocket: unmasked frames, oversized messages and other subprotocols are refused; the relay goes on', async () => {
    const unmasked = await RawWebSocket.open(httpPort, 'ng.rtpengine.com');
    unmasked.write(clientFrame(0x1, Buffer.from('u1 d7:command4:pinge'), true, false));
    await unmasked.waitClosed();
    expect(unmasked.frames.map((f) => [f.opcode, f.payload.readUInt16BE(0)])).toEqual([[0x8, 1002]]);
    const big = await RawWebSocket.open(httpPort, 'ng.rtpengine.com');
    big.write(clientFrame(0x2, Buffer.alloc(70_000, 0x41)).subarray(0, 20));
    await big.waitClosed();
    expect(big.frames.map((f) => [f.opcode, f.payload.readUInt16BE(0)])).toEqual([[0x8, 1009]]);
    const other = await RawWebSocket.open(httpPort, 'cli.rtpengine.com');
    expect(other.response).toMatch(/^HTTP\/1\.1 400 /);
    const ws = await RawWebSocket.open(httpPort, 'ng.rtpengine.com');
    ws.send('ok d7:command4:pinge');
    expect((await ws.waitFrames(1))[0]!.payload.toString()).toBe('ok d6:result4:ponge');
    ws.close();
  });
});
