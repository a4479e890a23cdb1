import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../helpers/Balancer.js';
import { decodeNgBody, type Dict } from '../helpers/NgClient.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { freePort } from '../helpers/ports.js';
import { Relay, sleep, waitFor } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

/** Offer (from the caller) and answer (from the callee) keys for call `id`. */
const offer = (id: string): Dict => ({ command: 'offer', 'call-id': id, 'from-tag': `f-${id}`, sdp: audioSdp('127.0.0.5', 4000), replace: ['origin'] });
const answer = (id: string): Dict => ({ command: 'answer', 'call-id': id, 'from-tag': `f-${id}`, 'to-tag': `t-${id}`, sdp: audioSdp('127.0.0.6', 5000) });
const del = (id: string): Dict => ({ command: 'delete', 'call-id': id, 'from-tag': `f-${id}` });

/** Call-ids a relay lists. */
async function listed(r: Relay): Promise<string[]> {
  return (await r.ng.ok({ command: 'list', limit: 100000 }))['calls'] as string[];
}

/** A relay that answers ping with pong and everything else as told (a broken member). */
class FakeMember {
  readonly requests: string[] = [];
  private constructor(
    readonly socket: dgram.Socket,
    readonly port: number,
    private readonly reply: (command: string, cookie: string) => Buffer | null,
  ) {
    socket.on('message', (msg, rinfo) => {
      const sp = msg.indexOf(0x20);
      const cookie = msg.subarray(0, sp).toString();
      const command = String(decodeNgBody(msg.subarray(sp + 1))['command']);
      this.requests.push(command);
      const r = command === 'ping' ? Buffer.from('d6:result4:ponge') : this.reply(command, cookie);
      if (r) socket.send(Buffer.concat([Buffer.from(cookie + ' '), r]), rinfo.port, rinfo.address);
    });
  }
  static async open(reply: (command: string, cookie: string) => Buffer | null): Promise<FakeMember> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new FakeMember(s, s.address().port, reply);
  }
  close(): void {
    this.socket.close();
  }
}

describe('ngrelay-balancer in front of two ngrelays and Debian rtpengine 10.5', () => {
  let relays: Relay[] = [];
  const byName = new Map<string, Relay>();
  const names = ['ngr1', 'ngr2', 'rtpe'];
  let balancers: Balancer[] = [];

  const startBalancer = async (o: Parameters<typeof Balancer.start>[0]): Promise<Balancer> => {
    const b = await Balancer.start(o);
    balancers.push(b);
    return b;
  };
  const members = (weights: number[] = [1, 1, 1], capacity = 1000): { name: string; address: string; weight: number; capacity: number }[] =>
    relays.map((r, i) => ({ name: names[i]!, address: `127.0.0.1:${r.ngPort}`, weight: weights[i]!, capacity }));

  /** The members (by name) that hold a call, asked directly. */
  async function holders(id: string): Promise<string[]> {
    const out: string[] = [];
    for (const [name, r] of byName) if ((await r.ng.request({ command: 'query', 'call-id': id }))['result'] === 'ok') out.push(name);
    return out;
  }

  beforeAll(async () => {
    relays = await Promise.all([
      Relay.start({ args: ['--delete-delay=0'] }),
      Relay.start({ args: ['--delete-delay=0'] }),
      Relay.start({ rtpengine: true, args: ['--delete-delay=0'] }),
    ]);
    relays.forEach((r, i) => byName.set(names[i]!, r));
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') for (const b of balancers) console.log(`===== balancer\n${b.output.slice(-20000)}`);
    for (const b of balancers) await b.stop('SIGKILL');
    balancers = [];
    // Whatever a test left on the relays goes, so the next starts from empty members.
    for (const r of relays) for (const id of await listed(r)) await r.ng.request({ command: 'delete', 'call-id': id });
  });

  afterAll(async () => {
    for (const r of relays) await r.stop();
  });

  it('places calls by weight, keeps each call on one member from offer to delete, and answers as the member does', async () => {
    const b = await startBalancer({ members: members([3, 2, 1]) });
    const ids = Array.from({ length: 120 }, (_, i) => `spread-${i}`);
    for (const id of ids) await b.ng.ok(offer(id));
    for (const id of ids) await b.ng.ok(answer(id));
    const counts = new Map<string, number>();
    for (const [name, r] of byName) counts.set(name, (await listed(r)).filter((c) => c.startsWith('spread-')).length);
    expect(Object.fromEntries(counts)).toEqual({ ngr1: 60, ngr2: 40, rtpe: 20 });
    const ls = await b.members();
    expect([...ls.values()].map((m) => [m['name'], m['active sessions'], m['state'], m['status']])).toEqual([
      ['ngr1', '60', 'online', 'ACTIVE'],
      ['ngr2', '40', 'online', 'ACTIVE'],
      ['rtpe', '20', 'online', 'ACTIVE'],
    ]);
    // Each call lives on exactly one member; a query through the balancer is the holder's reply, byte for byte.
    for (const id of ids.slice(0, 6)) {
      const h = await holders(id);
      expect(h).toHaveLength(1);
      const body = Buffer.from('d7:command5:query7:call-id' + `${id.length}:${id}` + 'e');
      const via = await b.ng.raw(body);
      const direct = await byName.get(h[0]!)!.ng.raw(body);
      expect(via.toString('latin1')).toBe(direct.toString('latin1'));
    }
    // JSON in, the member's JSON out.
    const json = await b.ng.request({ command: 'query', 'call-id': ids[0] }, { json: true });
    expect(json['result']).toBe('ok');
    for (const id of ids) await b.ng.ok(del(id));
    for (const r of relays) expect(await listed(r)).toEqual([]);
    expect((await b.cli('totals')).split('\n')).toContain('    active sessions = 0');
    // ping, list and statistics are the balancer's own.
    expect(await b.ng.request({ command: 'ping' })).toEqual({ result: 'pong' });
    await b.ng.ok(offer('merged-a'));
    await b.ng.ok(offer('merged-b'));
    expect(((await b.ng.ok({ command: 'list' }))['calls'] as string[]).sort()).toEqual(['merged-a', 'merged-b']);
    const stats = (await b.ng.ok({ command: 'statistics' }))['statistics'] as { currentstatistics: { sessionstotal: number } };
    expect(stats.currentstatistics.sessionstotal).toBe(2);
  });

  it('answers retransmissions from its cache, and malformed or unknown requests with clear errors', async () => {
    const b = await startBalancer({ members: members() });
    const body = Buffer.from(JSON.stringify(offer('dup-1')));
    const first = await b.ng.raw(body, 'dupcookie1');
    const again = await b.ng.raw(body, 'dupcookie1');
    expect(again.equals(first)).toBe(true);
    expect(await holders('dup-1')).toHaveLength(1);
    const ls = await b.members();
    expect([...ls.values()].reduce((a, m) => a + Number(m['calls placed']), 0)).toBe(1);

    const bad = async (bytes: string): Promise<Dict> => decodeNgBody(await b.ng.raw(bytes));
    expect(await bad('xyz')).toEqual({ result: 'error', 'error-reason': 'Invalid NG data format' });
    expect(await bad('d7:command')).toEqual({ result: 'error', 'error-reason': 'Could not decode bencode dictionary' });
    expect(await bad('{"command": ')).toEqual({ result: 'error', 'error-reason': 'Failed to parse JSON document' });
    expect(await bad('d4:fromi1ee')).toEqual({ result: 'error', 'error-reason': 'Dictionary contains no key "command"' });
    // What only a member can judge, a member answers, in its own words.
    expect(await b.ng.request({ command: 'answer', 'call-id': 'no-such-call', 'from-tag': 'x', 'to-tag': 'y', sdp: audioSdp('127.0.0.6', 5000) }))
      .toMatchObject({ result: 'error', 'error-reason': 'Unknown call-id' });
    expect(await b.ng.request({ command: 'offer', 'from-tag': 'x', sdp: audioSdp('127.0.0.6', 5000) })).toEqual({ result: 'error', 'error-reason': 'No call-id in message' });
    expect((await b.ng.request({ command: '__proto__', 'call-id': 'constructor' }))['result']).toBe('error');
    expect((await b.ng.request({ command: 'offer', 'call-id': 'toString', 'from-tag': 'x', sdp: 'garbage' }))['result']).toBe('error');
    // A datagram without a cookie cannot be answered; the balancer carries on.
    expect(await b.ng.datagram(Buffer.from('nospace'), 300)).toBeNull();
    expect(await b.ng.request({ command: 'ping' })).toEqual({ result: 'pong' });
    await b.ng.ok(del('dup-1'));
  });

  it('fills members up to capacity, skips a member that answers load limit, and says load limit when all are full', async () => {
    // ngr2 itself refuses a second call; the balancer thinks it could take 10.
    const tight = await Relay.start({ args: ['--delete-delay=0', '--max-sessions=1'] });
    try {
      const b = await startBalancer({
        members: [
          { name: 'ngr1', address: `127.0.0.1:${relays[0]!.ngPort}`, capacity: 3 },
          { name: 'tight', address: `127.0.0.1:${tight.ngPort}`, capacity: 10 },
        ],
      });
      for (let i = 0; i < 4; i++) await b.ng.ok(offer(`cap-${i}`));
      const ls = await b.members();
      expect([ls.get('ngr1')!['active sessions'], ls.get('tight')!['active sessions']]).toEqual(['3', '1']);
      expect(Number(ls.get('tight')!['failures'])).toBeGreaterThanOrEqual(1);
      expect(await b.ng.request(offer('cap-full'))).toEqual({ result: 'error', 'error-reason': 'No cluster member available' });
      expect(await b.ng.request({ ...offer('cap-full2'), supports: ['load limit'] })).toEqual({ result: 'load limit', message: 'No cluster member available' });
      expect(await listed(tight)).toEqual(['cap-1']);
      // A delete frees the slot.
      await b.ng.ok(del('cap-0'));
      await b.ng.ok(offer('cap-4'));
      expect(await holders('cap-4')).toEqual(['ngr1']);
      for (const id of ['cap-1', 'cap-2', 'cap-3', 'cap-4']) await b.ng.ok(del(id));
    } finally {
      await tight.stop();
    }
  });

  it('suspend, resume, graceful delete with live calls, and add under load', async () => {
    const b = await startBalancer({ members: members().slice(0, 2) });
    for (let i = 0; i < 4; i++) await b.ng.ok(offer(`adm-${i}`));
    expect(await b.cli('modify default suspend ngr1')).toBe('OK\n');
    for (let i = 4; i < 8; i++) await b.ng.ok(offer(`adm-${i}`));
    for (let i = 4; i < 8; i++) expect(await holders(`adm-${i}`)).toEqual(['ngr2']);
    // Calls already on a suspended member carry on there.
    await b.ng.ok(answer('adm-0'));
    expect((await b.members()).get('ngr1')!['status']).toBe('SUSPENDED');
    expect(await b.cli('modify default resume ngr1')).toBe('OK\n');
    await b.ng.ok(offer('adm-8'));
    expect(await holders('adm-8')).toEqual(['ngr1']);

    // Graceful delete: no new calls, gone once its last call ended.
    expect(await b.cli('modify default delete ngr1')).toBe('OK\n');
    expect((await b.members()).get('ngr1')!['status']).toBe('DRAINING');
    await b.ng.ok(offer('adm-9'));
    expect(await holders('adm-9')).toEqual(['ngr2']);
    const onNgr1 = (await listed(relays[0]!)).filter((c) => c.startsWith('adm-'));
    expect(onNgr1.length).toBeGreaterThan(0);
    for (const id of onNgr1) {
      expect((await b.members()).has('ngr1')).toBe(true);
      await b.ng.ok(answer(id));
      await b.ng.ok(del(id));
    }
    expect((await b.members()).has('ngr1')).toBe(false);

    // Add under load: offers keep flowing while rtpengine joins; it takes its share of the calls that follow.
    let n = 100;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        await b.ng.ok(offer(`adm-${n++}`));
        await sleep(20);
      }
    })();
    await sleep(200);
    expect(await b.cli(`modify default add name=rtpe,address=127.0.0.1:${relays[2]!.ngPort},capacity=50,weight=1`)).toBe('OK\n');
    await waitFor('rtpengine to get calls', async () => (await listed(relays[2]!)).length >= 5, 10_000);
    stop = true;
    await load;
    expect(await b.cli('modify default add name=rtpe,address=127.0.0.1:1,capacity=1,weight=1')).toMatch(/^ERROR: member 'rtpe' already exists/);
    expect(await b.cli('modify default add name=x,address=nowhere')).toMatch(/^ERROR: invalid member/);
    expect(await b.cli('modify nosuch suspend x')).toBe("ERROR: no cluster 'nosuch'\n");
    expect(await b.cli('modify default suspend nosuch')).toBe("ERROR: no member 'nosuch' in cluster 'default'\n");
    expect(await b.cli('save')).toMatch(/^ERROR: no config file/);
    // Forced delete: at once, calls and all.
    expect(await b.cli('modify default delete rtpe force')).toBe('OK\n');
    expect([...(await b.members()).keys()]).toEqual(['ngr2']);
  });

  it('a killed member: new calls avoid it within ping-interval x failures, and it comes back online', async () => {
    const extra = await Relay.start({ args: ['--delete-delay=0'] });
    const b = await startBalancer({
      members: [{ name: 'extra', address: `127.0.0.1:${extra.ngPort}` }, { name: 'ngr1', address: `127.0.0.1:${relays[0]!.ngPort}` }],
      args: ['--ping-interval=1', '--failures=2'],
    });
    for (let i = 0; i < 4; i++) await b.ng.ok(offer(`kill-${i}`));
    expect((await b.members()).get('extra')!['active sessions']).toBe('2');
    const port = extra.ngPort;
    await extra.stop('SIGKILL');
    await waitFor('extra to go offline', async () => (await b.members()).get('extra')!['state'] === 'offline', 5000, 100);
    for (let i = 4; i < 10; i++) await b.ng.ok(offer(`kill-${i}`));
    for (let i = 4; i < 10; i++) expect(await holders(`kill-${i}`)).toEqual(['ngr1']);
    // A command for a call of the dead member gets a clear error, not silence.
    expect(await b.ng.request(answer('kill-0'))).toEqual({ result: 'error', 'error-reason': "Cluster member 'extra' did not answer" });
    const back = await Relay.start({ ngPort: port, args: ['--delete-delay=0'] });
    try {
      await waitFor('extra to be online again', async () => (await b.members()).get('extra')!['state'] === 'online', 5000, 100);
      await b.ng.ok(offer('kill-10'));
      await b.ng.ok(offer('kill-11'));
      // One to each: the member that came back takes calls again.
      expect((await listed(back)).length).toBe(1);
      expect((await holders('kill-10')).concat(await holders('kill-11'))).toEqual(['ngr1']);
      for (const id of ['kill-10', 'kill-11']) await b.ng.ok(del(id));
      expect(await listed(back)).toEqual([]);
    } finally {
      await back.stop();
    }
  });

  it('members that answer garbage or nothing: clear errors, the offer goes elsewhere, the balancer keeps serving', async () => {
    const garbage = await FakeMember.open((command) => (command === 'offer' ? Buffer.from('d6:result2:ok3:sdp') : Buffer.from('not bencode')));
    const silent = await FakeMember.open(() => null);
    const answering = await FakeMember.open((command) => (command === 'offer' ? Buffer.from('d6:result2:oke') : command === 'answer' ? Buffer.from('\x00\x01garbage') : null));
    try {
      const b = await startBalancer({
        members: [
          { name: 'garbage', address: `127.0.0.1:${garbage.port}`, weight: 100 },
          { name: 'silent', address: `127.0.0.1:${silent.port}`, weight: 10 },
          { name: 'ngr1', address: `127.0.0.1:${relays[0]!.ngPort}`, weight: 1 },
        ],
      });
      // garbage's offer reply is broken, silent says nothing: the call lands on ngr1.
      await b.ng.ok(offer('gb-1'));
      expect(await holders('gb-1')).toEqual(['ngr1']);
      const ls = await b.members();
      expect([ls.get('garbage')!['failures'], ls.get('silent')!['failures'], ls.get('ngr1')!['calls placed']]).toEqual(['1', '1', '1']);
      expect(silent.requests.filter((c) => c === 'offer').length).toBe(2);
      await b.ng.ok(del('gb-1'));

      const b2 = await startBalancer({ members: [{ name: 'answering', address: `127.0.0.1:${answering.port}` }] });
      await b2.ng.ok(offer('gb-2'));
      expect(await b2.ng.request(answer('gb-2'))).toEqual({ result: 'error', 'error-reason': "Cluster member 'answering' sent an invalid reply" });
      expect(await b2.ng.request(del('gb-2'))).toEqual({ result: 'error', 'error-reason': "Cluster member 'answering' did not answer" });
      expect(await b2.ng.request({ command: 'ping' })).toEqual({ result: 'pong' });
    } finally {
      for (const f of [garbage, silent, answering]) f.close();
    }
  });

  it('two clusters from a config file, each on its own NG address; run-time changes written back with save', async () => {
    const [ngA, ngB] = [await freePort(), await freePort()];
    const file = [
      '# operator comment kept',
      '[balancer]',
      'ping-interval = 1',
      '',
      '[cluster blue]',
      `listen-ng = 127.0.0.1:${ngA}`,
      `member-ngr1 = address=127.0.0.1:${relays[0]!.ngPort},weight=1,capacity=10,label=rack-a`,
      '',
      '[cluster green]',
      `listen-ng = 127.0.0.1:${ngB}`,
      `member-ngr2 = address=127.0.0.1:${relays[1]!.ngPort},weight=1,capacity=10`,
      '',
    ].join('\n');
    const b = await startBalancer({ configFile: file });
    await waitFor('both clusters online', async () => (await b.cli('ls')).split('active members = 1').length === 3, 5000, 100);
    expect(await b.cli('ls')).toBe(
      `Cluster: #0\n    name = blue\n    address = 127.0.0.1:${ngA}\n    active members = 1\n    inactive members = 0\n\n` +
      `Cluster: #1\n    name = green\n    address = 127.0.0.1:${ngB}\n    active members = 1\n    inactive members = 0\n\nOK\n`,
    );
    expect((await b.members('blue')).get('ngr1')!['label']).toBe('rack-a');
    expect(await b.cli('ls nosuch')).toBe("ERROR: no cluster 'nosuch'\n");
    expect(await b.cli('frobnicate')).toMatch(/^ERROR: unknown command 'frobnicate'/);
    expect(await b.cli(`modify green add name=rtpe,address=127.0.0.1:${relays[2]!.ngPort},capacity=5,weight=2`)).toBe('OK\n');
    expect(await b.cli('save')).toBe(`saved to ${b.configPath}\nOK\n`);
    const saved = readFileSync(b.configPath!, 'utf8');
    expect(saved).toContain('# operator comment kept\n[balancer]\nping-interval = 1\n');
    expect(saved).toContain(`member-rtpe = address=127.0.0.1:${relays[2]!.ngPort},weight=2,capacity=5\n`);
    await b.stop();
    balancers = balancers.filter((x) => x !== b);
    const again = await startBalancer({ configFile: saved });
    expect([...(await again.members('green')).keys()]).toEqual(['ngr2', 'rtpe']);
  });

  it('rebuilds the call map from the members after a restart under 100 live calls', async () => {
    const ms = members([1, 1, 1]);
    const b = await startBalancer({ members: ms });
    const ids = Array.from({ length: 100 }, (_, i) => `rs-${i}`);
    for (const id of ids) await b.ng.ok(offer(id));
    const before = new Map<string, string>();
    for (const id of ids) before.set(id, (await holders(id))[0]!);
    await b.stop('SIGKILL');
    balancers = balancers.filter((x) => x !== b);
    const b2 = await startBalancer({ members: ms, ngPort: b.ngPort });
    expect([...(await b2.members()).values()].map((m) => m['active sessions'])).toEqual(['34', '33', '33']);
    for (const id of ids) await b2.ng.ok(answer(id));
    for (const id of ids) await b2.ng.ok(del(id));
    // Every answer reached the member that had the offer: a wrong member would have said Unknown call-id.
    for (const r of relays) expect(await listed(r)).toEqual([]);
    expect(before.size).toBe(100);
  });

  it('two balancers sharing a Redis map place each call once', async () => {
    const redis = await RedisServer.start();
    try {
      const args = [`--redis=127.0.0.1:${redis.port}/3`];
      const [b1, b2] = await Promise.all([startBalancer({ members: members(), args }), startBalancer({ members: members([1, 2, 3]), args })]);
      const ids = Array.from({ length: 30 }, (_, i) => `shared-${i}`);
      // The same offers reach both at once (two proxies, one call each way round).
      await Promise.all(ids.flatMap((id) => [b1.ng.ok(offer(id)), b2.ng.ok(offer(id))]));
      for (const id of ids) expect(await holders(id)).toHaveLength(1);
      // Either balancer routes the answer to the same member.
      for (const [i, id] of ids.entries()) await (i % 2 ? b1 : b2).ng.ok(answer(id));
      const c = redis.client(3);
      expect((await c.keys('ngbal:default:shared-*')).length).toBe(30);
      for (const [i, id] of ids.entries()) await (i % 2 ? b2 : b1).ng.ok(del(id));
      expect(await c.keys('ngbal:*')).toEqual([]);
      c.disconnect();
      for (const r of relays) expect(await listed(r)).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});
