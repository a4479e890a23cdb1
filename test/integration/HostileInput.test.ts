import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNgBody } from '../helpers/NgClient.js';
import { expectHealthy, fdCount, portsUsed, rssKb } from '../helpers/health.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

/** A CLI connection the test drives byte by byte; resolves with what the relay sent and how it ended. */
function cliSession(port: number, drive: (s: net.Socket) => void): Promise<{ text: string; bytesWritten: number; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let text = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => drive(s));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ text, bytesWritten: s.bytesWritten, ms: Date.now() - started }));
  });
}

// What one peer on the NG or CLI port sends must never stall, bloat or crash the relay.
describe('hostile input', () => {
  let relay: Relay;
  let baselineFds: number;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0', '--log-level=5'] });
    baselineFds = fdCount(relay.pid);
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const reason = async (dict: Record<string, unknown>, json = false): Promise<unknown> => {
    const r = await relay.ng.request(dict, { json });
    expect(r['result'], JSON.stringify(r)).toBe('error');
    return r['error-reason'];
  };

  it('answers commands named after built-in properties as rtpengine does: Unrecognized command', async () => {
    for (const name of PROTOTYPE_NAMES) {
      expect(await reason({ command: name }), name).toBe('Unrecognized command');
      expect(await reason({ command: name }, true), name).toBe('Unrecognized command');
    }
    // A dict with nothing in it, cut short (rtpengine closes it at the end of the datagram).
    expect((await relay.ng.raw('d')).toString()).toBe('d6:result5:error12:error-reason36:Dictionary contains no key "command"e');
    expect((await relay.ng.raw('d9:__proto__d7:command4:pingee')).toString()).toBe(
      'd6:result5:error12:error-reason36:Dictionary contains no key "command"e',
    );
  });

  it('carries a call whose call-id and tags are built-in names, and reports them as plain keys', async () => {
    const base = { 'call-id': '__proto__', 'from-tag': 'constructor' };
    await relay.ng.ok({ command: 'offer', ...base, sdp: audioSdp('127.0.0.1', 5000), flags: ['__proto__', 'toString'] });
    await relay.ng.ok({ command: 'answer', ...base, 'to-tag': 'toString', sdp: audioSdp('127.0.0.1', 5002) });
    const q = await relay.ng.ok({ command: 'query', 'call-id': '__proto__' });
    expect(Object.keys(q['tags'] as object).sort()).toEqual(['constructor', 'toString']);
    expect(await relay.cli('list sessions all')).toMatch(/callid: +__proto__ \|/);
    await relay.ng.ok({ command: 'delete', ...base });
    expect(await relay.cli('list numsessions')).toContain('Current sessions total: 0\n');
  });

  it("refuses RTP formats that are not payload types with rtpengine's reason, and never prints a built-in", async () => {
    for (const formats of ['constructor', '0 toString', '0 128', '__proto__']) {
      const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP ${formats}\r\n`;
      expect(await reason({ command: 'offer', 'call-id': `fmt-${formats}`, 'from-tag': 'a', sdp }), formats).toBe('Incomplete SDP specification');
    }
  });

  it('parses SDP with 60 KB runs of blanks in linear time, inside a line and at its end', async () => {
    const head = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n';
    const blanks = ' '.repeat(60_000);
    const half = ' '.repeat(30_000);
    expect(await reason({ command: 'offer', 'call-id': 'blanks-1', 'from-tag': 'a', sdp: `${head}m=audio 5000 RTP/AVP 0${blanks}x\r\n` })).toBe(
      'Incomplete SDP specification',
    );
    const ok = await relay.ng.ok({ command: 'offer', 'call-id': 'blanks-2', 'from-tag': 'a', sdp: `${head}m=audio 5000 RTP/AVP 0\r\na=foo${half}x${half}\r\n` });
    expect(ok['sdp']).toContain(`a=foo${half}x\r\n`);
    await relay.ng.ok({ command: 'delete', 'call-id': 'blanks-2', 'from-tag': 'a' });
  });

  it('keeps call-ids that are not valid UTF-8 apart, and ends each by the id list sessions shows', async () => {
    const offer = (id: number[]): Promise<Buffer> =>
      relay.ng.raw(
        Buffer.concat([
          Buffer.from(`d7:command5:offer7:call-id${id.length}:`),
          Buffer.from(id),
          Buffer.from(`8:from-tag1:a3:sdp${audioSdp('127.0.0.1', 5000).length}:${audioSdp('127.0.0.1', 5000)}e`),
        ]),
      );
    for (const id of [[0x66, 0xff, 0x80], [0x66, 0xfe, 0x80]]) expect(decodeNgBody(await offer(id))['result']).toBe('ok');
    const listed = [...(await relay.cli('list sessions all')).matchAll(/callid: +(\S+) \|/g)].map((m) => m[1]!);
    expect(listed.sort()).toEqual(['f\u00fe\u0080', 'f\u00ff\u0080']);
    for (const id of listed) expect(await relay.cli(`terminate ${id}`)).toBe(`\nCall Id (${id}) successfully terminated by operator.\n\n`);
    expect(await relay.cli('list numsessions')).toContain('Current sessions total: 0\n');
  });

  it('sends a list reply that fits one datagram however many long call-ids there are', async () => {
    // 50 ids of 1.5 kB: 75 kB of call-ids, more than one datagram holds.
    const ids = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(3, '0')}-${'x'.repeat(1500)}`);
    for (const id of ids) await relay.ng.ok({ command: 'offer', 'call-id': id, 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
    const calls = (await relay.ng.ok({ command: 'list', limit: 1000 }))['calls'] as string[];
    expect(calls.length).toBeGreaterThan(10);
    expect(calls.length).toBeLessThan(ids.length);
    for (const c of calls) expect(ids).toContain(c);
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
  });

  it("answers CLI words that are built-in names with rtpengine's texts", async () => {
    expect(await relay.cli('list sessions constructor')).toBe('\nCall ID not found (constructor).\n\n');
    expect(await relay.cli('list sessions __proto__')).toBe('\nCall ID not found (__proto__).\n\n');
    expect(await relay.cli('terminate __proto__')).toBe('\nCall Id not found (__proto__).\n\n');
    expect(await relay.cli('terminate toString')).toBe('\nCall Id not found (toString).\n\n');
    expect(await relay.cli('set constructor 5')).toBe('Unknown or incomplete command::constructor 5\n');
    expect(await relay.cli('list valueOf')).toBe('Unknown or incomplete command::valueOf\n');
  });

  it('reads one CLI line, answers and closes, whatever the client keeps sending', async () => {
    const before = rssKb(relay.pid);
    const chunk = Buffer.alloc(1 << 20, 0x41);
    const r = await cliSession(relay.cliPort, (s) => {
      s.write('list numsessions\n');
      // Keep pushing a megabyte at a time for as long as the relay lets us (at most 2 s).
      const until = Date.now() + 2000;
      const push = (): void => {
        if (s.destroyed || Date.now() > until) return void s.destroy();
        if (s.write(chunk)) setImmediate(push);
        else s.once('drain', push);
      };
      push();
    });
    expect(r.text).toContain('Current sessions own: 0\n');
    // Bounded by socket buffers, not by how long the client pushes.
    expect(r.bytesWritten).toBeLessThan(64 << 20);
    expect(rssKb(relay.pid) - before).toBeLessThan(32 * 1024);
  });

  it('drops a CLI line that never ends and a client that never speaks', async () => {
    const long = await cliSession(relay.cliPort, (s) => s.write('list sessions ' + 'y'.repeat(200_000)));
    expect(long.text).toBe('');
    const idle = await cliSession(relay.cliPort, () => undefined);
    expect(idle.text).toBe('');
    expect(idle.ms).toBeGreaterThanOrEqual(4000);
    // A long line that does end (a long call-id) is still answered.
    expect(await relay.cli(`list sessions ${'z'.repeat(5000)}`)).toBe(`\nCall ID not found (${'z'.repeat(5000)}).\n\n`);
  });

  it('answers NG while more CLI clients hang than it accepts, and serves the CLI again once they go', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 100 }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: relay.cliPort }, () => resolve(s));
        s.on('error', () => undefined);
      })),
    );
    expect((await relay.ng.raw('d7:command4:pinge', undefined, 1000)).toString()).toBe('d6:result4:ponge');
    for (const s of sockets) s.destroy();
    await sleep(200);
    expect(await relay.cli('list numsessions')).toContain('Current sessions total: 0\n');
  });

  it('serves an operator at once while as many CLI clients sit idle as it accepts, dropping the oldest idle one', async () => {
    const sockets: net.Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 64; i++) {
      sockets.push(await new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: relay.cliPort }, () => resolve(s));
        s.on('error', () => undefined);
        s.on('close', () => (closed[i] = true));
      }));
    }
    // Connections are accepted in order: the operator's comes after every idle one.
    expect(await relay.cli('list numsessions')).toContain('Current sessions total: 0\n');
    await waitFor('the oldest idle client dropped', () => closed[0] === true, 2000);
    expect(closed.filter(Boolean)).toHaveLength(1);
    for (const s of sockets) s.destroy();
  });

  it('answers an offer with 2,500 media sections and leaks no port', async () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' + 'm=audio 5000 RTP/AVP 0\r\n'.repeat(2500);
    const r = await relay.ng.request({ command: 'offer', 'call-id': 'many-m', 'from-tag': 'a', sdp });
    expect(['ok', 'error']).toContain(r['result']);
    expect((await relay.ng.raw('d7:command4:pinge', undefined, 1000)).toString()).toBe('d6:result4:ponge');
    await relay.cli('terminate all');
    expect(await portsUsed(relay)).toBe(0);
  });

  it('is healthy afterwards: alive, counts agree, no port or descriptor left', async () => {
    await expectHealthy(relay, baselineFds);
  });
});
