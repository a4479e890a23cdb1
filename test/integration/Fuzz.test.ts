import net from 'node:net';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeNgBody, type Dict } from '../helpers/NgClient.js';
import { expectHealthy, fdCount, rng } from '../helpers/health.js';
import { Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

// Seeded fuzzing of every parser that faces the network. Each run sends the same bytes for the
// same seed (FUZZ_SEED overrides it to explore); the relay must answer each input as NG / CLI
// does, never hit an internal error, and end as healthy as it began.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261202);
const NASTY = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '', ' ', '\u0000', '\uffff', '-1', '99999999999999999999'];

const INTERNAL = /internal error|uncaught exception|unhandled rejection/i;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

/** Real requests, as Kamailio sends them, to start mutating from. */
function seedRequests(callId: string): Dict[] {
  const base = { 'call-id': callId, 'from-tag': 'ft', 'received-from': ['IP4', '127.0.0.1'] };
  return [
    { command: 'ping' },
    { command: 'offer', ...base, sdp: audioSdp('127.0.0.1', 5000), replace: ['origin', 'session-connection'], ICE: 'remove', supports: ['load limit'] },
    { command: 'answer', ...base, 'to-tag': 'tt', sdp: audioSdp('127.0.0.1', 5002), flags: ['trust-address'] },
    { command: 'query', 'call-id': callId },
    { command: 'delete', ...base, 'to-tag': 'tt', 'delete-delay': 0 },
    { command: 'list', limit: 5 },
    { command: 'statistics' },
  ];
}

/** One mutation of an encoded request body. */
function mutate(r: Rand, body: Buffer): Buffer {
  const at = int(r, body.length + 1);
  switch (int(r, 9)) {
    case 0: {
      const b = Buffer.from(body);
      for (let k = 1 + int(r, 4); k > 0; k--) b[int(r, b.length)] = int(r, 256);
      return b;
    }
    case 1:
      return body.subarray(0, at);
    case 2:
      return Buffer.concat([body.subarray(0, at), randomBytes(r, 1 + int(r, 16)), body.subarray(at)]);
    case 3:
      return Buffer.concat([body.subarray(0, at), body.subarray(at + 1 + int(r, 20))]);
    case 4: {
      const name = Buffer.from(pick(r, NASTY));
      return Buffer.concat([body.subarray(0, at), Buffer.from(`${name.length}:`), name, body.subarray(at)]);
    }
    case 5: {
      const depth = 1 + int(r, 20_000);
      return Buffer.concat([body.subarray(0, at), Buffer.from(pick(r, ['l', 'd1:x']).repeat(depth)), body.subarray(at)]);
    }
    case 6: {
      const n = int(r, 40_000);
      return Buffer.concat([body.subarray(0, at), Buffer.from(`${n}:`), Buffer.alloc(n, pick(r, [0x20, 0x41, 0xff])), body.subarray(at)]);
    }
    case 7:
      return Buffer.concat([body.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), body.subarray(at)]);
    default: {
      const from = int(r, body.length);
      return Buffer.concat([body.subarray(0, at), body.subarray(from, from + int(r, 64)), body.subarray(at)]);
    }
  }
}

describe('NG fuzzer', () => {
  let relay: Relay;
  let baselineFds: number;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0', '--log-level=4', '--max-sessions=-1'] });
    baselineFds = fdCount(relay.pid);
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  // One request at a time: two 64 kB datagrams at once can overflow a socket's receive buffer.
  it('answers every mutated request with an NG reply, and stays healthy', async () => {
    const r = rng(SEED);
    let errors = 0;
    for (let i = 0; i < 4000; i++) {
      const dict = pick(r, seedRequests(`fuzz-${int(r, 30)}`));
      let body: Buffer = r() < 0.8 ? Buffer.from(bencode.encode(dict)) : Buffer.from(JSON.stringify(dict));
      for (let m = 1 + int(r, 3); m > 0; m--) body = mutate(r, body);
      if (body.length > 65_000) body = body.subarray(0, 65_000);
      const reply = await relay.ng.raw(body, undefined, 5000);
      const d = reply[0] === 0x7b ? (JSON.parse(reply.toString()) as Dict) : decodeNgBody(reply);
      expect(['ok', 'pong', 'error', 'load limit'], `${body.toString('latin1').slice(0, 200)} -> ${reply.toString('latin1').slice(0, 200)}`).toContain(d['result']);
      if (d['result'] === 'error') {
        errors++;
        expect(String(d['error-reason'])).not.toMatch(INTERNAL);
      }
    }
    expect(errors).toBeGreaterThan(0);
    expect(relay.output).not.toMatch(INTERNAL);
    await expectHealthy(relay, baselineFds);
  });
});

const SDP_SEEDS = [
  audioSdp('127.0.0.1', 5000),
  [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'a=sendrecv',
    'm=audio 5004 RTP/AVP 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20', 'a=rtcp:5005',
    'm=video 5006 RTP/AVPF 96', 'a=rtpmap:96 H264/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-mux', 'a=mid:1',
    'a=ice-ufrag:abcd', 'a=ice-pwd:0123456789abcdef012345', 'a=candidate:1 1 UDP 2130706431 127.0.0.1 5006 typ host', '',
  ].join('\r\n'),
  ['v=0', 'o=- 1 1 IN IP6 ::1', 's=-', 'c=IN IP6 ::1', 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=recvonly', 'm=image 0 udptl t38', 'm=application 9 TCP/MSRP *', ''].join('\r\n'),
];

const SDP_TOKENS = ['m=', 'c=', 'a=', 'IN', 'IP4', 'IP6', 'RTP/AVP', ' ', '\t', '\r\n', '\n', '/', ':', '0', '65536', '-1', '999999', ...NASTY];

function mutateSdp(r: Rand, sdp: string): string {
  const lines = sdp.split('\r\n');
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const i = int(r, lines.length);
    const line = lines[i] ?? '';
    switch (int(r, 7)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, line);
        break;
      case 2: {
        const at = int(r, line.length + 1);
        lines[i] = line.slice(0, at) + pick(r, SDP_TOKENS) + line.slice(at);
        break;
      }
      case 3: {
        const at = int(r, line.length + 1);
        lines[i] = line.slice(0, at) + line.slice(at + 1 + int(r, 8));
        break;
      }
      case 4:
        lines[i] = line.replace(/\d+/, () => pick(r, ['0', '1', '65535', '65536', '128', '-5', '', 'x', '4294967296']));
        break;
      case 5:
        lines.splice(i, 0, `a=${pick(r, NASTY)}:${pick(r, NASTY)}`, `m=audio ${int(r, 70000)} RTP/AVP ${pick(r, ['0', '8 101', 'constructor', '127', ''])}`);
        break;
      default:
        lines[i] = line + ' '.repeat(int(r, 20_000)) + pick(r, ['', 'x']);
    }
  }
  return lines.join(pick(r, ['\r\n', '\n']));
}

describe('SDP fuzzer', () => {
  let relay: Relay;
  let baselineFds: number;
  beforeAll(async () => {
    relay = await Relay.start({ interfaces: ['pub1/127.0.0.1', 'pub6/::1'], args: ['--delete-delay=0', '--log-level=4'] });
    baselineFds = fdCount(relay.pid);
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('answers every mutated offer and answer with an SDP or a reason, and stays healthy', async () => {
    const r = rng(SEED + 1);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 1500; i++) {
      const callId = `sdp-fuzz-${i}`;
      const offer = await relay.ng.request({ command: 'offer', 'call-id': callId, 'from-tag': 'ft', sdp: mutateSdp(r, pick(r, SDP_SEEDS)), ICE: 'remove' });
      const steps = [offer];
      if (offer['result'] === 'ok') {
        steps.push(await relay.ng.request({ command: 'answer', 'call-id': callId, 'from-tag': 'ft', 'to-tag': 'tt', sdp: mutateSdp(r, pick(r, SDP_SEEDS)) }));
        steps.push(await relay.ng.request({ command: 'delete', 'call-id': callId, 'from-tag': 'ft' }));
      }
      for (const s of steps) {
        const key = s['result'] === 'error' ? String(s['error-reason']) : String(s['result']);
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (s['result'] === 'ok' && 'sdp' in s) expect(String(s['sdp'])).toMatch(/^v=0\r\n/);
      }
    }
    for (const reason of outcomes.keys()) expect(reason).not.toMatch(INTERNAL);
    expect(outcomes.get('ok')).toBeGreaterThan(100);
    expect(relay.output).not.toMatch(INTERNAL);
    await expectHealthy(relay, baselineFds);
  });
});

const CLI_WORDS = ['list', 'get', 'set', 'terminate', 'ksadd', 'ksrm', 'kslist', 'active', 'standby', 'sessions', 'numsessions', 'totals', 'all', 'own', 'foreign',
  'maxsessions', 'timeout', 'loglevel', 'interfaces', 'jsonstats', '7', '-1', ...NASTY];

describe('CLI abuser', () => {
  let relay: Relay;
  let baselineFds: number;
  beforeAll(async () => {
    relay = await Relay.start({ args: ['--delete-delay=0', '--log-level=4'] });
    baselineFds = fdCount(relay.pid);
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  /** One connection: `bytes` sent in two pieces (maybe no newline), then half-closed; whatever comes back. */
  const session = (bytes: Buffer, split: number): Promise<string> =>
    new Promise((resolve) => {
      let out = '';
      const s = net.connect({ host: '127.0.0.1', port: relay.cliPort }, () => {
        s.write(bytes.subarray(0, split));
        setImmediate(() => {
          if (s.destroyed) return;
          s.write(bytes.subarray(split));
          s.end();
        });
      });
      s.setEncoding('latin1');
      s.on('data', (d: string) => (out += d));
      s.on('error', () => undefined);
      s.on('close', () => resolve(out));
    });

  it('answers or drops every odd line, never an internal error, and stays healthy', async () => {
    const r = rng(SEED + 2);
    // A call to find, terminate and list among the noise.
    await relay.ng.ok({ command: 'offer', 'call-id': 'cli-victim', 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
    for (let batch = 0; batch < 40; batch++) {
      const runs: Promise<string>[] = [];
      for (let k = 0; k < 10; k++) {
        const words = Array.from({ length: int(r, 5) }, () => pick(r, CLI_WORDS));
        let line = Buffer.from(words.join(pick(r, [' ', '  ', '\t'])));
        if (r() < 0.2) line = Buffer.concat([line, randomBytes(r, int(r, 64))]);
        if (r() < 0.05) line = Buffer.concat([line, Buffer.alloc(70_000, 0x61)]);
        const bytes = r() < 0.85 ? Buffer.concat([line, Buffer.from(r() < 0.5 ? '\n' : '\r\n'), randomBytes(r, int(r, 3) * 100)]) : line;
        // Clients that neither end a line nor half-close meet the idle timeout (HostileInput tests it).
        runs.push(session(bytes, int(r, bytes.length + 1)));
      }
      for (const out of await Promise.all(runs)) expect(out).not.toMatch(/^Error:/);
    }
    expect(relay.output).not.toMatch(INTERNAL);
    await expectHealthy(relay, baselineFds);
  });
});
