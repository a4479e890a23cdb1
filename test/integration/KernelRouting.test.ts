import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  burst, kernelCall, kernelLegs, kernelPackets, kernelPreflight, loaderObjects, loaderPid, mapCounter, rtpRun, userspacePackets,
} from '../helpers/kernelPath.js';
import { NetLab, type AgentSocket, type NetnsAgent } from '../helpers/NetLab.js';
import { Relay, waitFor } from '../helpers/Relay.js';

// The kernel fast path where the relay is a router's neighbour rather than the peers': the
// relay's media address on `lo` (a VIP, as keepalived, anycast or a direct-server-return load
// balancer put it), caller and callee each behind their own routed link, and a third link that
// appears after the relay started. The program must catch packets on whatever device they
// arrive by and send them by the device and next hop the routing table gives, or leave them to
// the relay's socket; never lose one.
//
//     A (10.201.2.2) --eth1/ra-- relay (lo: VIP 10.201.9.1; ra 10.201.2.1; rb 10.201.3.1) --rb/eth1-- B (10.201.3.2)
//     NG and CLI over the lab's bridge (relay eth0 10.201.1.10, sip 10.201.1.5)
const TABLE = 61;
const VIP = { v4: '10.201.9.1', v6: 'fd00:209::1' };
const A = { v4: '10.201.2.2', v6: 'fd00:202::2' };
const B = { v4: '10.201.3.2', v6: 'fd00:203::2' };
const C = { v4: '10.201.4.2', v6: 'fd00:204::2' };
const RA = '10.201.2.1';
const SIP = '10.201.1.5';
const NG = '10.201.1.10';

describe('kernel fast path in routed topologies', () => {
  let lab: NetLab;
  let relay: Relay;
  let sip: NetnsAgent;
  let a: NetnsAgent;
  let b: NetnsAgent;

  const forwarding = (on: boolean): void => {
    lab.sysctl('relay', 'net.ipv4.ip_forward', on ? '1' : '0');
    lab.sysctl('relay', 'net.ipv6.conf.all.forwarding', on ? '1' : '0');
  };

  beforeAll(async () => {
    kernelPreflight();
    lab = NetLab.create();
    lab.addHost('sip', [SIP]);
    lab.addHost('relay', [NG]);
    lab.addRoutedHost('a');
    lab.addRoutedHost('b');
    lab.link('relay', 'ra', [`${RA}/24`, 'fd00:202::1/64'], 'a', 'eth1', [`${A.v4}/24`, `${A.v6}/64`]);
    lab.link('relay', 'rb', ['10.201.3.1/24', 'fd00:203::1/64'], 'b', 'eth1', [`${B.v4}/24`, `${B.v6}/64`]);
    lab.ipIn('relay', 'addr', 'add', `${VIP.v4}/32`, 'dev', 'lo');
    lab.ipIn('relay', '-6', 'addr', 'add', `${VIP.v6}/128`, 'dev', 'lo');
    for (const [host, gw4, gw6] of [['a', RA, 'fd00:202::1'], ['b', '10.201.3.1', 'fd00:203::1']] as const) {
      lab.ipIn(host, 'route', 'add', '10.201.0.0/16', 'via', gw4);
      lab.ipIn(host, '-6', 'route', 'add', 'fd00::/16', 'via', gw6);
    }
    // The kernel's forwarding lookup is what follows the routes; it needs forwarding on.
    forwarding(true);
    [sip, a, b] = await Promise.all([lab.agent('sip'), lab.agent('a'), lab.agent('b')]);
    relay = await Relay.start({
      netns: lab.ns('relay'),
      ngHost: NG,
      control: sip.controlPath(SIP),
      interfaces: [`vip/${VIP.v4}`, `vip/${VIP.v6}`, `ra/${RA}`],
      portMin: 32000,
      portMax: 32999,
      args: [`--table=${TABLE}`, '--endpoint-learning=immediate', '--delete-delay=0'],
    });
  });
  afterAll(async () => {
    if (relay) expect(await relay.stop()).toBe(0);
    lab?.destroy();
  });

  const map = (): number => loaderObjects(loaderPid(lab, 'relay', relay)).map;

  /**
   * A call between `x` and `y` confirmed by one packet each way, then 200 packets each way:
   * every one arrives rewritten, none reaches the relay's sockets, the map counted them all and
   * left none to userspace.
   */
  async function kernelOnly(callId: string, sx: AgentSocket, sy: AgentSocket, relayAddr: string, direction?: [string, string]): Promise<void> {
    const { toA, toB } = await kernelCall(relay, callId, { address: sx.address, port: sx.port }, { address: sy.address, port: sy.port }, { direction });
    await burst(sx, sy, relayAddr, toB, rtpRun(1, 1, 0x51));
    await burst(sy, sx, relayAddr, toA, rtpRun(1, 1, 0x52));
    await waitFor('both directions offloaded', async () => (await kernelLegs(relay, callId)) === 2, 5000);
    const user0 = await userspacePackets(relay);
    const kern0 = await kernelPackets(relay);
    const mapped0 = mapCounter(map(), 'packets');
    const y0 = sy.received.length;
    await burst(sx, sy, relayAddr, toB, rtpRun(2, 200, 0x51));
    await burst(sy, sx, relayAddr, toA, rtpRun(2, 200, 0x52));
    const got = sy.received.slice(y0);
    expect(got.length).toBe(200);
    for (const p of got) {
      expect(p.address).toBe(relayAddr);
      expect(p.port).toBe(toA);
    }
    expect(got.map((p) => p.seq)).toEqual(Array.from({ length: 200 }, (_, i) => 2 + i));
    expect(mapCounter(map(), 'packets') - mapped0).toBe(400);
    expect(mapCounter(map(), 'toUserspace')).toBe(0);
    await waitFor('kernel counters read back', async () => (await kernelPackets(relay)) - kern0 >= 400, 4000);
    expect(await userspacePackets(relay)).toBe(user0);
    await relay.ng.ok({ command: 'delete', 'call-id': callId, 'from-tag': 'A' });
  }

  it('relays in the kernel with its address on lo and the peers routed over other devices (IPv4)', async () => {
    await kernelOnly('vip4', await a.socket(A.v4, 4000), await b.socket(B.v4, 5000), VIP.v4);
  });

  it('relays in the kernel with its address on lo and the peers routed over other devices (IPv6)', async () => {
    await kernelOnly('vip6', await a.socket(A.v6, 4000), await b.socket(B.v6, 5000), VIP.v6);
  });

  it('relays in the kernel when packets arrive on a device other than the one holding the address, and leave by a third', async () => {
    // The address is on ra (A's link); B reaches it routed over rb, and packets to B leave by rb.
    await kernelOnly('split4', await a.socket(A.v4, 4100), await b.socket(B.v4, 5100), RA, ['ra', 'ra']);
  });

  it('with forwarding off, sends by the device the loader looked up for the entry', async () => {
    forwarding(false);
    try {
      await kernelOnly('nofwd4', await a.socket(A.v4, 4200), await b.socket(B.v4, 5200), VIP.v4);
      await kernelOnly('nofwd6', await a.socket(A.v6, 4200), await b.socket(B.v6, 5200), VIP.v6);
    } finally {
      forwarding(true);
    }
  });

  it('leaves a packet whose next hop is not resolved to the relay\'s socket, then takes the stream back', async () => {
    const sa = await a.socket(A.v4, 4300);
    const sb = await b.socket(B.v4, 5300);
    const { toA, toB } = await kernelCall(relay, 'noneigh', { address: A.v4, port: 4300 }, { address: B.v4, port: 5300 });
    await burst(sa, sb, VIP.v4, toB, rtpRun(1, 1, 1));
    await burst(sb, sa, VIP.v4, toA, rtpRun(1, 1, 2));
    await waitFor('offloaded', async () => (await kernelLegs(relay, 'noneigh')) === 2, 5000);
    // The relay forgets B's link-layer address: the kernel cannot send to B until it has asked again.
    lab.ipIn('relay', 'neigh', 'flush', 'dev', 'rb');
    const user0 = await userspacePackets(relay);
    const left0 = mapCounter(map(), 'toUserspace');
    await burst(sa, sb, VIP.v4, toB, rtpRun(2, 1, 1));
    expect(mapCounter(map(), 'toUserspace') - left0).toBe(1);
    await waitFor('the relay\'s socket relayed it', async () => (await userspacePackets(relay)) === user0 + 1, 4000);
    // The relay's own send resolved B again: the rest goes through the kernel, every packet arrives.
    const mapped0 = mapCounter(map(), 'packets');
    await burst(sa, sb, VIP.v4, toB, rtpRun(3, 100, 1));
    expect(mapCounter(map(), 'packets') - mapped0).toBe(100);
    expect(await userspacePackets(relay)).toBe(user0 + 1);
    await relay.ng.ok({ command: 'delete', 'call-id': 'noneigh', 'from-tag': 'A' });
  });

  it('attaches to a device that appears after start-up: a peer behind it is relayed in the kernel', async () => {
    lab.addRoutedHost('c');
    lab.link('relay', 'rc', ['10.201.4.1/24', 'fd00:204::1/64'], 'c', 'eth1', [`${C.v4}/24`, `${C.v6}/64`]);
    lab.ipIn('c', 'route', 'add', '10.201.0.0/16', 'via', '10.201.4.1');
    await waitFor('the relay attached to the new device', () => relay.output.includes('attached to a device that came up'), 5000);
    const c = await lab.agent('c');
    await kernelOnly('late4', await a.socket(A.v4, 4400), await c.socket(C.v4, 6400), VIP.v4);
  });
});
