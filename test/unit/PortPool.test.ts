import { spawn } from 'node:child_process';
import type dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PortPool, PortsExhaustedError } from '../../src/media/PortPool.js';
import { bindUdpPair } from '../../src/media/userspace/udp.js';
import { mediaRange, quietRange as quietRangeOn } from '../helpers/ports.js';

const quietRange = (width: number): Promise<number> => quietRangeOn(width, ['127.0.0.1', '127.0.0.2']);

const held: dgram.Socket[] = [];

afterEach(() => held.splice(0).forEach((s) => s.close()));

/** Binds both ports on this thread, as the userspace plane does. */
const bind = (pool: PortPool) => (port: number) => bindUdpPair(pool.address, pool.family, port);

async function pair(pool: PortPool): Promise<[number, number]> {
  const [a, b] = await pool.allocatePair(bind(pool));
  held.push(a, b);
  return [a.address().port, b.address().port];
}

/** Another process holding a UDP port on 127.0.0.1 until killed. */
async function holdInOtherProcess(port: number): Promise<() => void> {
  const child = spawn(process.execPath, ['-e', `require('dgram').createSocket('udp4').bind(${port}, '127.0.0.1', () => console.log('bound'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return () => child.kill();
}

describe('PortPool', () => {
  it('hands out even RTP ports with RTCP on the next odd port, bound on the pool address', async () => {
    const { portMin, portMax } = mediaRange(200);
    const pool = new PortPool('127.0.0.1', 4, portMin, portMax);
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) {
      const [rtp, rtcp] = await pair(pool);
      expect(rtp % 2).toBe(0);
      expect(rtcp).toBe(rtp + 1);
      expect(rtp).toBeGreaterThanOrEqual(portMin);
      expect(rtcp).toBeLessThanOrEqual(portMax);
      expect(seen.has(rtp)).toBe(false);
      seen.add(rtp);
    }
    expect(held[0]!.address().address).toBe('127.0.0.1');
    expect(pool.inUse).toBe(20);
  });

  it('runs out with PortsExhaustedError and reuses ports after release', async () => {
    const portMin = await quietRange(6);
    const pool = new PortPool('127.0.0.1', 4, portMin, portMin + 5);
    const ports = [await pair(pool), await pair(pool), await pair(pool)].map((p) => p[0]).sort();
    expect(ports).toEqual([portMin, portMin + 2, portMin + 4]);
    await expect(pool.allocatePair(bind(pool))).rejects.toBeInstanceOf(PortsExhaustedError);
    const i = held.findIndex((s) => s.address().port === portMin + 2);
    held[i]!.close();
    held[i + 1]!.close();
    held.splice(i, 2);
    pool.release(portMin + 2);
    pool.release(portMin + 3);
    await new Promise((r) => setTimeout(r, 10));
    expect(await pair(pool)).toEqual([portMin + 2, portMin + 3]);
  });

  it('skips ports that another process holds', async () => {
    const portMin = await quietRange(4);
    const release = await holdInOtherProcess(portMin + 1);
    try {
      const pool = new PortPool('127.0.0.1', 4, portMin, portMin + 3);
      expect(await pair(pool)).toEqual([portMin + 2, portMin + 3]);
      expect(pool.isUsed(portMin)).toBe(false);
      expect(pool.isUsed(portMin + 1)).toBe(false);
      await expect(pool.allocatePair(bind(pool))).rejects.toBeInstanceOf(PortsExhaustedError);
    } finally {
      release();
    }
  });

  it('keeps the same port number apart per address', async () => {
    const portMin = await quietRange(2);
    const a = new PortPool('127.0.0.1', 4, portMin, portMin + 1);
    const b = new PortPool('127.0.0.2', 4, portMin, portMin + 1);
    expect(await pair(a)).toEqual([portMin, portMin + 1]);
    expect(await pair(b)).toEqual([portMin, portMin + 1]);
  });

  it('counts parked pairs as free, and a restored stream that needs a parked port gets it once the holder lets go', async () => {
    const portMin = await quietRange(4);
    const pool = new PortPool('127.0.0.1', 4, portMin, portMin + 3);
    const [rtp] = await pair(pool);
    pool.park(rtp);
    expect(pool.inUse).toBe(0);
    expect(pool.unclaimed).toBe(2);
    // Nobody to let go: the port stays taken.
    expect(pool.reserve(rtp)).toBe(false);
    const evicted: number[] = [];
    pool.parkedBy = {
      evict: (port) => {
        evicted.push(port);
        pool.unpark(port);
        pool.release(port);
        pool.release(port + 1);
        return true;
      },
    };
    expect(pool.reserve(rtp + 1)).toBe(true);
    expect(evicted).toEqual([rtp]);
    expect(pool.inUse).toBe(1);
    // Taken out of the stock by a call: counted as used again.
    const [other] = await pair(pool);
    pool.park(other);
    pool.unpark(other);
    expect(pool.inUse).toBe(3);
  });

  it('binds IPv6 pairs', async () => {
    const { portMin, portMax } = mediaRange(200);
    const pool = new PortPool('::1', 6, portMin, portMax);
    const [rtp, rtcp] = await pair(pool);
    expect(rtcp).toBe(rtp + 1);
    expect(held[0]!.address().address).toBe('::1');
  });
});
