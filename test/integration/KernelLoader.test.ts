import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  burst, kernelCall, kernelLegs, kernelPreflight, loaderObjects, loaderPid, programLoaded, rtpRun, userspacePackets,
} from '../helpers/kernelPath.js';
import { NetLab, type NetnsAgent } from '../helpers/NetLab.js';
import { ROOT, Relay, sleep, waitFor } from '../helpers/Relay.js';

// The fast-path loader's life as the relay sees it: whatever happens to the loader (killed, hung,
// signalled with the relay's process group), no program of it keeps forwarding what the relay
// no longer tracks, media goes on through the relay's sockets, and a new loader takes over.
const A = '10.201.1.21';
const B = '10.201.1.22';
const R = '10.201.1.10';
const SIP = '10.201.1.5';

describe('kernel fast-path loader', () => {
  let lab: NetLab;
  let sip: NetnsAgent;
  let a: NetnsAgent;
  let b: NetnsAgent;
  let relay: Relay | null = null;

  const start = (table: number): Promise<Relay> =>
    Relay.start({
      netns: lab.ns('relay'),
      ngHost: R,
      control: sip.controlPath(SIP),
      interfaces: [`pub/${R}`],
      portMin: 33000,
      portMax: 33999,
      args: [`--table=${table}`, '--endpoint-learning=immediate', '--delete-delay=0'],
    });

  beforeAll(async () => {
    kernelPreflight();
    lab = NetLab.create();
    lab.addHost('sip', [SIP]);
    lab.addHost('relay', [R]);
    lab.addHost('a', [A]);
    lab.addHost('b', [B]);
    [sip, a, b] = await Promise.all([lab.agent('sip'), lab.agent('a'), lab.agent('b')]);
  });
  afterEach(async () => {
    if (relay) {
      if (relay.proc.signalCode === 'SIGSTOP' || relay.proc.exitCode === null) process.kill(relay.pid, 'SIGCONT');
      await relay.stop();
    }
    relay = null;
  });
  afterAll(() => lab?.destroy());

  /** A call relayed in the kernel both ways, with its sockets and the relay's ports. */
  async function offloadedCall(r: Relay, callId: string, aPort: number, bPort: number) {
    const sa = await a.socket(A, aPort);
    const sb = await b.socket(B, bPort);
    const ports = await kernelCall(r, callId, { address: A, port: aPort }, { address: B, port: bPort });
    await burst(sa, sb, R, ports.toB, rtpRun(1, 1, 1));
    await burst(sb, sa, R, ports.toA, rtpRun(1, 1, 2));
    await waitFor('offloaded', async () => (await kernelLegs(r, callId)) === 2, 5000);
    return { sa, sb, ...ports };
  }

  it('takes a SIGKILLed loader\'s program away at once: media carries on through the relay, then in the kernel again', async () => {
    relay = await start(62);
    const r = relay;
    const { sa, sb, toB } = await offloadedCall(r, 'killed', 4000, 5000);
    const pid = loaderPid(lab, 'relay', r);
    const { prog } = loaderObjects(pid);
    // The relay is frozen, so only the loader's death can take the program away.
    process.kill(r.pid, 'SIGSTOP');
    process.kill(pid, 'SIGKILL');
    await waitFor('the dead loader\'s program gone', () => !programLoaded(prog), 5000);
    // These wait in the relay's socket: nothing in the kernel forwards them any more.
    const user0Before = sb.received.length;
    for (const p of rtpRun(2, 20, 1)) sa.send(p, toB, R);
    await sleep(200);
    expect(sb.received.length).toBe(user0Before);
    process.kill(r.pid, 'SIGCONT');
    await waitFor('the 20 relayed by the relay\'s socket', () => sb.received.length - user0Before === 20, 5000);
    await waitFor('a new loader', () => r.output.includes('re-installing streams'), 5000);
    await waitFor('offloaded again', async () => (await kernelLegs(r, 'killed')) === 2, 5000);
    const user0 = await userspacePackets(r);
    await burst(sa, sb, R, toB, rtpRun(30, 50, 1));
    expect(await userspacePackets(r)).toBe(user0);
  });

  it('kills and replaces a loader that stops answering; the entries it held stop forwarding', async () => {
    relay = await start(63);
    const r = relay;
    const { sa, sb, toB } = await offloadedCall(r, 'hung', 4100, 5100);
    const pid = loaderPid(lab, 'relay', r);
    const { prog } = loaderObjects(pid);
    process.kill(pid, 'SIGSTOP');
    // The delete needs the loader: it answers once the loader's deadline has passed.
    const del = await r.ng.request({ command: 'delete', 'call-id': 'hung', 'from-tag': 'A' }, { timeoutMs: 15_000 });
    expect(del['result']).toBe('ok');
    await waitFor('the hung loader killed', () => r.output.includes('(hung); killed'), 5000);
    await waitFor('its program gone', () => !programLoaded(prog), 5000);
    // The deleted call's 4-tuple goes nowhere now.
    const before = sb.received.length;
    for (const p of rtpRun(2, 10, 1)) sa.send(p, toB, R);
    await sleep(300);
    expect(sb.received.length).toBe(before);
    await waitFor('a new loader', () => r.output.includes('re-installing streams'), 5000);
    expect(loaderPid(lab, 'relay', r)).not.toBe(pid);
    await offloadedCall(r, 'after-hung', 4200, 5200);
  });

  it('stops cleanly when the whole process group gets SIGTERM, as systemd stops a unit', async () => {
    relay = await start(64);
    const r = relay;
    await offloadedCall(r, 'term', 4300, 5300);
    const pid = loaderPid(lab, 'relay', r);
    const { prog } = loaderObjects(pid);
    process.kill(pid, 'SIGTERM');
    expect(await r.stop('SIGTERM')).toBe(0);
    relay = null;
    expect(r.output).not.toContain('helper died');
    expect(programLoaded(prog)).toBe(false);
  });

  it('removes the tc filters an older loader of its table left, and no other table\'s', async () => {
    // What a loader on a kernel without tcx leaves when it dies with its relay: a tc filter
    // named after the table (handle 0x4e47, priority 0xc000 + table).
    const obj = join(ROOT, 'dist/kernel/fastpath.bpf.o');
    const tc = (...args: string[]): string => lab.run('relay', 'tc', ...args);
    spawnSync('ip', ['netns', 'exec', lab.ns('relay'), 'tc', 'qdisc', 'add', 'dev', 'eth0', 'clsact']);
    for (const table of [65, 66]) tc('filter', 'add', 'dev', 'eth0', 'ingress', 'prio', String(0xc000 + table), 'handle', '0x4e47', 'bpf', 'da', 'obj', obj, 'sec', 'tc');
    relay = await start(65);
    await waitFor('stale filter noticed', () => relay!.output.includes('a previous run left behind'), 3000);
    const left = tc('filter', 'show', 'dev', 'eth0', 'ingress');
    expect(left).not.toContain(`pref ${0xc000 + 65} `);
    expect(left).toContain(`pref ${0xc000 + 66} `);
    tc('filter', 'del', 'dev', 'eth0', 'ingress', 'prio', String(0xc000 + 66));
  });
});
