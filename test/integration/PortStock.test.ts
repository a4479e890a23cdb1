import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterRelay, waitSessions } from '../helpers/cluster.js';
import { boundUdpPorts } from '../helpers/health.js';
import { quietRange } from '../helpers/ports.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
import { audioSdp } from '../helpers/sdp.js';

type Dict = Record<string, unknown>;

async function hold(address: string, ports: number[]): Promise<dgram.Socket[]> {
  return Promise.all(
    ports.map(
      (port) =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const s = dgram.createSocket('udp4');
          s.once('error', reject);
          s.bind({ address, port, exclusive: true }, () => resolve(s));
        }),
    ),
  );
}

/**
 * A media worker's stock of pre-bound port pairs must never cost a call its port: a standby
 * restoring a peer's call whose port sits in its stock gives the parked pair up and binds it
 * for the call. The standby's range is made so that its one stocked pair is the owner's port.
 */
describe('parked port pairs and restored calls', () => {
  const held: dgram.Socket[] = [];
  let redis: RedisServer | undefined;
  let owner: Relay | undefined;
  let standby: Relay | undefined;

  afterAll(async () => {
    for (const s of held) s.close();
    await owner?.stop();
    await standby?.stop();
    await redis?.stop();
  });

  it("a standby gives up its parked pair when a peer's call needs exactly those ports", async () => {
    const base = await quietRange(128, ['127.0.0.1', '127.0.0.3']);
    redis = await RedisServer.start();
    // 64 pairs: one parked pair for the standby's single worker; every other pair but the
    // first two is held here, so that pair can only be `base`.
    held.push(...(await hold('127.0.0.3', Array.from({ length: 124 }, (_, i) => base + 4 + i))));
    const rest = await hold('127.0.0.3', [base + 2, base + 3]);
    standby = await clusterRelay(redis, 2, {
      interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'],
      subscribe: [1],
      portMin: base,
      portMax: base + 127,
      args: ['--active-switchover=false', '--num-threads=1'],
    });
    await waitFor('the standby parked one pair on 127.0.0.3', () => boundUdpPorts(standby!.pid, base, base + 3, '127.0.0.3').join() === `${base},${base + 1}`, 5000);
    for (const s of rest) s.close();
    expect((await standby.cli('list interfaces')).match(/Ports used:\s+(\d+)/g)?.join()).toBe('Ports used:     0,Ports used:     0');

    // The owner has just two pairs: its call takes both, `base` among them.
    owner = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: base, portMax: base + 3, args: ['--num-threads=0'] });
    const offer = await owner.ng.ok({ command: 'offer', 'call-id': 'ps-1', 'from-tag': 'a', sdp: audioSdp('127.0.0.1', 5000) });
    await owner.ng.ok({ command: 'answer', 'call-id': 'ps-1', 'from-tag': 'a', 'to-tag': 'b', sdp: audioSdp('127.0.0.1', 5002) });
    expect([base, base + 2]).toContain(Number(/m=audio (\d+)/.exec(offer['sdp'] as string)![1]));

    await waitSessions(standby, { own: 0, foreign: 1 });
    const q = await waitFor('both parties on the standby', async () => {
      const r = await standby!.ng.ok({ command: 'query', 'call-id': 'ps-1' });
      return Object.keys(r['tags'] as Dict).length === 2 && r;
    });
    const ports = Object.values(q['tags'] as Dict).map((party) => {
      const media = ((party as Dict)['medias'] as Dict[])[0]!;
      return (media['streams'] as Dict[])[0]!['local port'];
    });
    expect(ports.sort()).toEqual([base, base + 2]);
    // The call's four ports are bound by the standby, the parked pair's sockets gone with it.
    await waitFor('the copy bound its ports', () => boundUdpPorts(standby!.pid, base, base + 3, '127.0.0.3').join() === `${base},${base + 1},${base + 2},${base + 3}`, 5000);
    expect(standby.output).not.toContain('is held by another call');
    expect((await standby.cli('list interfaces')).match(/Ports used:\s+(\d+)/g)?.join()).toBe('Ports used:     0,Ports used:     4');
  });
});
