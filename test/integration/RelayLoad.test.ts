import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall, paced } from '../helpers/MediaCall.js';
import { mediaRange } from '../helpers/ports.js';
import { Relay, waitFor } from '../helpers/Relay.js';
import { rtpPacket } from '../helpers/RtpEndpoint.js';
import { totalStatistics } from '../helpers/stats.js';

/** utime+stime of a process in clock ticks (100/s on Linux). */
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

describe('200 calls at once', () => {
  const CALLS = 200;
  const SECONDS = 3;
  const PPS = 50;
  let relay: Relay;
  beforeAll(async () => {
    // 800 ports in use out of 2400: room for ports other tests on the machine hold in the range.
    relay = await Relay.start({ ...mediaRange(2400), args: ['--delete-delay=0'] });
  });
  afterAll(async () => {
    expect(await relay.stop()).toBe(0);
  });

  it('relay every packet, 50 packets/s per direction', async () => {
    const calls: MediaCall[] = [];
    for (let i = 0; i < CALLS; i++) calls.push(await MediaCall.establish(relay));
    expect(await relay.cli('list numsessions')).toContain(`Current sessions own: ${CALLS}`);
    const n = SECONDS * PPS;
    const cpu0 = cpuTicks(relay.pid);
    const t0 = Date.now();
    await paced(n, PPS, (seq) => {
      for (const c of calls) {
        c.caller.send(rtpPacket(seq, 0xa), c.toCaller.port, '127.0.0.1');
        c.callee.send(rtpPacket(seq, 0xb), c.toCallee.port, '127.0.0.1');
      }
    });
    await waitFor('every packet delivered', () => calls.every((c) => c.caller.received.length >= n && c.callee.received.length >= n), 10_000, 50);
    const ms = Date.now() - t0;
    const cpuMs = (cpuTicks(relay.pid) - cpu0) * 10;
    const total = 2 * CALLS * n;
    const received = calls.reduce((a, c) => a + c.caller.received.length + c.callee.received.length, 0);
    console.log(
      `${CALLS} calls, ${total} packets in ${ms} ms (${Math.round(total / (ms / 1000))}/s): ${received} delivered, ` +
        `relay CPU ${cpuMs} ms (${((cpuMs * 1000) / total).toFixed(1)} µs/packet, includes the sweep and NG idle)`,
    );
    expect(received).toBe(total);
    // In order and untouched, per call.
    for (const c of calls) {
      expect(c.callee.received.every((p, i) => p.data.readUInt16BE(2) === i && p.data.readUInt32BE(8) === 0xa)).toBe(true);
      expect(c.caller.received.every((p, i) => p.data.readUInt16BE(2) === i && p.data.readUInt32BE(8) === 0xb)).toBe(true);
    }
    expect((await totalStatistics(relay)).relayedpackets).toBe(total);
    for (const c of calls) {
      await c.delete();
      c.close();
    }
    expect(await relay.cli('list interfaces')).toMatch(/Ports used:\s+0 \//);
  });
});
