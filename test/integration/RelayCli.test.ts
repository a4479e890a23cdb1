import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Relay, ROOT, waitFor } from '../helpers/Relay.js';
import { RtpEndpoint, rtpPacket } from '../helpers/RtpEndpoint.js';
import { portsUsed } from '../helpers/health.js';
import { audioSdp, readSdp } from '../helpers/sdp.js';

const run = promisify(execFile);
const RTPENGINE_CTL = '/usr/bin/rtpengine-ctl';
const NGRELAY_CTL = join(ROOT, 'dist/src/bin/ngrelay-ctl.js');

// The CLI against rtpengine 10.5's texts (rtpengine-behaviour.md §3.3).
describe('ngrelay CLI', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  const offer = async (callId: string): Promise<number> => {
    const r = await relay.ng.ok({ command: 'offer', sdp: audioSdp('127.0.0.2', 45000), 'call-id': callId, 'from-tag': 'A' });
    return readSdp(r['sdp'] as string).medias[0]!.port;
  };
  const numsessions = (own: number, v4: number): string =>
    `Current sessions own: ${own}\nCurrent sessions foreign: 0\nCurrent sessions total: ${own}\nCurrent transcoded media: 0\n` +
    `Current sessions ipv4 only media: ${v4}\nCurrent sessions ipv6 only media: 0\nCurrent sessions ip mixed  media: 0\n`;

  it('prints the seven numsessions lines exactly', async () => {
    expect(await relay.cli('list numsessions')).toBe(numsessions(0, 0));
    await offer('n1');
    await offer('n2');
    expect(await relay.cli('list numsessions')).toBe(numsessions(2, 2));
    expect(await relay.cli('get numsessions')).toBe(numsessions(2, 2));
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    expect(await relay.cli('list numsessions')).toBe(numsessions(0, 0));
  });

  it('says so when there are no sessions', async () => {
    expect(await relay.cli('list sessions all')).toBe('No sessions on this media relay.\n');
    expect(await relay.cli('list sessions own')).toBe('No own sessions on this media relay.\n');
    expect(await relay.cli('list sessions foreign')).toBe('No foreign sessions on this media relay.\n');
    expect(await relay.cli('list sessions nope')).toBe('\nCall ID not found (nope).\n\n');
  });

  it("lists sessions in 10.5's one-line format", async () => {
    await offer('line-1');
    const all = await relay.cli('list sessions all');
    expect(all).toMatch(new RegExp(`^callid: {55}line-1 \\| deletionmark:  no \\| created: {2}\\d{10} \\| proxy:127\\.0\\.0\\.1:\\d+ \\| redis_keyspace:0 \\| foreign:no\\n$`));
    expect(await relay.cli('list sessions own')).toBe(all);
    expect(await relay.cli('list sessions foreign')).toBe('No foreign sessions on this media relay.\n');
    await relay.cli('terminate line-1');
  });

  it('details one session', async () => {
    const port = await offer('detail-1');
    await relay.ng.ok({ command: 'answer', sdp: audioSdp('127.0.0.3', 46000), 'call-id': 'detail-1', 'from-tag': 'A', 'to-tag': 'B' });
    const text = await relay.cli('list sessions detail-1');
    const lines = text.split('\n');
    expect(lines.slice(0, 11)).toEqual([
      '',
      'callid: detail-1',
      'deletionmark: no',
      expect.stringMatching(/^created: \d{10}$/),
      expect.stringMatching(/^proxy: 127\.0\.0\.1:\d+$/),
      'tos: 0',
      expect.stringMatching(/^last_signal: \d{10}$/),
      'redis_keyspace: 0',
      'foreign: no',
      '',
      expect.stringMatching(/^--- Tag 'A', type: FROM_TAG, label '', branch '', callduration \d+\.\d{6}$/),
    ]);
    expect(text).toMatch(/--- Tag 'B', type: TO_TAG, /);
    // A re-INVITE from the callee makes it the FROM_TAG side, as in rtpengine.
    await relay.ng.ok({ command: 'offer', sdp: audioSdp('127.0.0.3', 46000), 'call-id': 'detail-1', 'from-tag': 'B', 'to-tag': 'A' });
    const flipped = await relay.cli('list sessions detail-1');
    expect(flipped).toMatch(/--- Tag 'A', type: TO_TAG, /);
    expect(flipped).toMatch(/--- Tag 'B', type: FROM_TAG, /);
    expect(text).toContain("---     subscribed to 'B'\n");
    expect(text).toContain("---     subscription of 'B'\n");
    // As in rtpengine, the codec is known once media has arrived.
    expect(text).toContain('------ Media #1 (audio over RTP/AVP) using unknown codec\n');
    expect(text).toMatch(new RegExp(`-------- Port {7}127\\.0\\.0\\.1:${port} <> {7}127\\.0\\.0\\.3:46000, SSRC 0, 0 p, 0 b, 0 e, \\d+ ts\n`));
    expect(text.endsWith(' ts\n\n')).toBe(true);
    expect(text).toMatch(/ \(RTCP\), SSRC 0, 0 p, 0 b, 0 e, \d+ ts\n/);
    await relay.cli('terminate detail-1');
  });

  it('names the codec once media has arrived, in the session detail and the query', async () => {
    const caller = await RtpEndpoint.open('127.0.0.1');
    try {
      await relay.ng.ok({ command: 'offer', sdp: audioSdp('127.0.0.1', caller.port), 'call-id': 'codec-1', 'from-tag': 'A' });
      const a = await relay.ng.ok({ command: 'answer', sdp: audioSdp('127.0.0.3', 46000), 'call-id': 'codec-1', 'from-tag': 'A', 'to-tag': 'B' });
      const toCaller = readSdp(a['sdp'] as string).medias[0]!.port;
      for (let i = 0; i < 3; i++) caller.send(rtpPacket(i, 4242), toCaller, '127.0.0.1');
      const q = await waitFor('the relay to count the caller\'s packets', async () => {
        const r = await relay.ng.ok({ command: 'query', 'call-id': 'codec-1', 'from-tag': 'A' });
        const media = ((r['tags'] as Record<string, Record<string, unknown>>)['A']!['medias'] as Record<string, unknown>[])[0]!;
        return media['codec'] ? media : null;
      });
      expect(q['codec']).toBe('PCMU/8000');
      const text = await relay.cli('list sessions codec-1');
      expect(text).toMatch(/--- Tag 'A'[^]*using PCMU\/8000\n[^]*--- Tag 'B'[^]*using unknown codec\n/);
    } finally {
      caller.close();
      await relay.cli('terminate codec-1');
    }
  });

  it('terminates one call, all, own and foreign calls', async () => {
    await offer('t1');
    expect(await portsUsed(relay)).toBe(4);
    expect(await relay.cli('terminate t1')).toBe('\nCall Id (t1) successfully terminated by operator.\n\n');
    expect(await portsUsed(relay)).toBe(0);
    expect(await relay.cli('terminate t1')).toBe('\nCall Id not found (t1).\n\n');
    await offer('t2');
    expect(await relay.cli('terminate foreign')).toBe('All foreign calls terminated by operator.\n');
    expect(await relay.cli('list numsessions')).toContain('Current sessions own: 1\n');
    expect(await relay.cli('terminate own')).toBe('All own calls terminated by operator.\n');
    expect(await relay.cli('list numsessions')).toContain('Current sessions own: 0\n');
    expect(await relay.cli('terminate all')).toBe('All calls terminated by operator.\n');
    expect(await relay.ng.request({ command: 'query', 'call-id': 't2' })).toEqual({ result: 'error', 'error-reason': 'Unknown call-id' });
  });

  it('names what it did not understand, and asks for missing parameters', async () => {
    expect(await relay.cli('foo')).toBe('Unknown or incomplete command::foo\n');
    expect(await relay.cli('foo bar')).toBe('Unknown or incomplete command::foo bar\n');
    expect(await relay.cli('list foo')).toBe('Unknown or incomplete command::foo\n');
    expect(await relay.cli('set foo 1')).toBe('Unknown or incomplete command::foo 1\n');
    for (const line of ['list', 'set', 'set timeout', 'terminate', 'list sessions']) {
      expect(await relay.cli(line), line).toBe('More parameters required.\n');
    }
  });

  it('sets and lists timeouts, maxsessions and deletedelay', async () => {
    expect(await relay.cli('list timeout')).toBe('TIMEOUT=60\n');
    expect(await relay.cli('set timeout 61')).toBe('Success setting timeout to 61\n');
    expect(await relay.cli('list timeout')).toBe('TIMEOUT=61\n');
    expect(await relay.cli('set silenttimeout 100')).toBe('Success setting timeout to 100\n');
    expect(await relay.cli('list silenttimeout')).toBe('SILENT_TIMEOUT=100\n');
    expect(await relay.cli('set offertimeout 200')).toBe('Success setting timeout to 200\n');
    expect(await relay.cli('list offertimeout')).toBe('OFFER_TIMEOUT=200\n');
    expect(await relay.cli('set finaltimeout 0')).toBe('Success setting timeout to 0\n');
    expect(await relay.cli('list finaltimeout')).toBe('FINAL_TIMEOUT=0\n');
    expect(await relay.cli('set timeout abc')).toBe('Fail setting timeout to abc; no digists found\n');
    expect(await relay.cli('set timeout -5')).toBe('Fail setting timeout to -5; errno=0\n');
    expect(await relay.cli('list timeout')).toBe('TIMEOUT=61\n');

    expect(await relay.cli('list maxsessions')).toBe('Maximum sessions configured on rtpengine: -1\n');
    expect(await relay.cli('set maxsessions 5')).toBe('Success setting maxsessions to 5\n');
    expect(await relay.cli('list maxsessions')).toBe('Maximum sessions configured on rtpengine: 5\n');
    expect(await relay.cli('set maxsessions -2')).toBe('Fail setting maxsessions to -2; either positive or -1 values allowed\n');
    expect(await relay.cli('set maxsessions abc')).toBe('Fail setting maxsessions to abc; no digists found\n');
    expect(await relay.cli('set maxsessions -1')).toBe('Success setting maxsessions to -1; disable feature\n');

    expect(await relay.cli('list deletedelay')).toBe('0\n');
    expect(await relay.cli('set deletedelay 3')).toBe('Success setting delete-delay to 3\n');
    expect(await relay.cli('list deletedelay')).toBe('3\n');
    expect(await relay.cli('set deletedelay -1')).toBe('Invalid delete-delay value\n');
    expect(await relay.cli('set deletedelay 0')).toBe('Success setting delete-delay to 0\n');
  });

  it('lists interfaces and totals', async () => {
    const port = await offer('if-1');
    const text = await relay.cli('list interfaces');
    expect(text).toBe(
      "Interface 'pub1' address '127.0.0.1' (IPv4)\n" +
      ` Port range: ${relay.portMin} - ${relay.portMax}\n` +
      ` Ports used:     4 /   ${relay.portMax - relay.portMin + 1} (  1.0%)\n` +
      ` Last port used: ${(text.match(/Last port used: (\d+)/) ?? [])[1]}\n`,
    );
    expect(port).toBeGreaterThanOrEqual(relay.portMin);
    const totals = await relay.cli('list totals');
    expect(totals).toContain('Statistics over currently running sessions:\n');
    expect(totals).toContain(` ${'Owned sessions'.padEnd(48)}:1\n`);
    expect(totals).toContain('Total statistics (does not include current running sessions):\n');
    const names = ['Ping', 'Offer', 'Answer', 'Delete', 'Query', 'List', 'StartRec', 'StopRec', 'StartFwd', 'StopFwd', 'BlkDTMF', 'UnblkDTMF',
      'BlkMedia', 'UnblkMedia', 'PlayMedia', 'StopMedia', 'PlayDTMF', 'Stats', 'SlnMedia', 'UnslnMedia', 'Pub', 'SubReq', 'SubAns', 'Unsub'];
    const table = totals.slice(totals.indexOf('Control statistics:\n\n') + 'Control statistics:\n\n'.length).split('\n');
    expect(table[0]).toBe('                Proxy ' + names.map((n) => `| ${n.padStart(10)} `).join(''));
    expect(table[1]).toMatch(/^ {12}127\.0\.0\.1 \| +\d+ \| +[1-9]\d* \| /);
    await relay.cli('terminate all');
  });

  it('closes a connection whose line is too long, and shrugs off binary junk', async () => {
    const raw = (bytes: Buffer): Promise<string> =>
      new Promise((resolve) => {
        let out = '';
        const sock = net.connect({ host: '127.0.0.1', port: relay.cliPort }, () => sock.write(bytes));
        sock.setEncoding('latin1');
        sock.on('data', (d: string) => (out += d));
        sock.on('close', () => resolve(out));
        sock.on('error', () => undefined);
      });
    expect(await raw(Buffer.alloc(5000, 0x61))).toBe('');
    expect(await raw(Buffer.from([0xff, 0x00, 0x20, 0x0a]))).toMatch(/^Unknown or incomplete command::/);
    expect(await relay.cli('list numsessions')).toBe(numsessions(0, 0));
  });

  it("works with Debian's rtpengine-ctl and with ngrelay-ctl", async () => {
    if (!existsSync(RTPENGINE_CTL)) throw new Error(`${RTPENGINE_CTL} is missing: apt-get install -y rtpengine-utils`);
    await offer('ctl-1');
    const want = numsessions(1, 1);
    const deb = await run(RTPENGINE_CTL, ['-ip', `127.0.0.1:${relay.cliPort}`, 'list', 'numsessions']);
    expect(deb.stdout).toBe(want);
    const ours = await run(process.execPath, [NGRELAY_CTL, '-ip', `127.0.0.1:${relay.cliPort}`, 'list', 'numsessions']);
    expect(ours.stdout).toBe(want);
    const ours2 = await run(process.execPath, [NGRELAY_CTL, '-ip', '127.0.0.1', '-port', String(relay.cliPort), 'terminate', 'ctl-1']);
    expect(ours2.stdout).toBe('\nCall Id (ctl-1) successfully terminated by operator.\n\n');
  });
});
