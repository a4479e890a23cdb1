import { afterEach, describe, expect, it } from 'vitest';
import { CookieCache } from '../../src/ng/CookieCache.js';

describe('CookieCache', () => {
  const caches: CookieCache[] = [];
  const cache = (maxBytes?: number): CookieCache => {
    const c = new CookieCache(3_600_000, maxBytes);
    caches.push(c);
    return c;
  };
  afterEach(() => caches.splice(0).forEach((c) => c.close()));

  it('runs the work once per cookie; a later request gets the same bytes', async () => {
    const c = cache();
    let runs = 0;
    const work = async (): Promise<Buffer> => Buffer.from(`reply ${++runs}`);
    const first = c.run('k', work);
    expect(first.duplicate).toBe(false);
    expect(await first.reply).toEqual(Buffer.from('reply 1'));
    const again = c.run('k', work);
    expect(again.duplicate).toBe(true);
    expect(await again.reply).toBe(await first.reply);
    expect(runs).toBe(1);
  });

  it('makes a duplicate that arrives while the first is running wait for it', async () => {
    const c = cache();
    let release!: (b: Buffer) => void;
    let runs = 0;
    const first = c.run('k', () => {
      runs++;
      return new Promise<Buffer>((r) => (release = r));
    });
    const second = c.run('k', async () => {
      runs++;
      return Buffer.from('other');
    });
    let secondDone = false;
    void second.reply.then(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(secondDone).toBe(false);
    release(Buffer.from('the reply'));
    expect(await second.reply).toEqual(Buffer.from('the reply'));
    expect(await first.reply).toEqual(Buffer.from('the reply'));
    expect(runs).toBe(1);
  });

  it('keys on the cookie only', async () => {
    const c = cache();
    await c.run('a', async () => Buffer.from('A')).reply;
    expect(await c.run('b', async () => Buffer.from('B')).reply).toEqual(Buffer.from('B'));
    expect(await c.run('a', async () => Buffer.from('X')).reply).toEqual(Buffer.from('A'));
  });

  it('remembers a reply across one rotation and forgets it after two (30-60 s)', async () => {
    const c = cache();
    await c.run('k', async () => Buffer.from('1')).reply;
    c.rotate();
    expect(c.get('k')).toBeDefined();
    expect(c.run('k', async () => Buffer.from('2')).duplicate).toBe(true);
    c.rotate();
    c.rotate();
    expect(c.get('k')).toBeUndefined();
    expect(await c.run('k', async () => Buffer.from('3')).reply).toEqual(Buffer.from('3'));
  });

  it('does not remember a failure, so a retransmission is run again', async () => {
    const c = cache();
    await expect(c.run('k', () => Promise.reject(new Error('boom'))).reply).rejects.toThrow('boom');
    await new Promise((r) => setImmediate(r));
    expect(await c.run('k', async () => Buffer.from('ok')).reply).toEqual(Buffer.from('ok'));
  });

  it('stays within its byte bound: the oldest finished replies go first, a running one stays', async () => {
    // Each 1000-byte reply is counted with its bookkeeping (~1300 bytes); three fit, four do not.
    const c = cache(4000);
    let release!: (b: Buffer) => void;
    const running = c.run('running', () => new Promise<Buffer>((r) => (release = r)));
    for (const k of ['a', 'b', 'c', 'd']) await c.run(k, async () => Buffer.alloc(1000, k)).reply;
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBeDefined();
    expect(c.get('d')).toBeDefined();
    expect(c.get('running')).toBe(running.reply);
    expect(c.size).toBeLessThanOrEqual(4000);
    release(Buffer.alloc(1000, 'r'));
    await running.reply;
    await new Promise((r) => setImmediate(r));
    // The late finisher is the newest: the oldest (b) makes room for it.
    expect(c.get('b')).toBeUndefined();
    expect(await c.run('running', async () => Buffer.from('again')).reply).toEqual(Buffer.alloc(1000, 'r'));
    expect(c.size).toBeLessThanOrEqual(4000);
  });

  it('gives the bytes back when a generation expires', async () => {
    const c = cache();
    await c.run('k', async () => Buffer.alloc(5000)).reply;
    expect(c.size).toBeGreaterThan(5000);
    c.rotate();
    expect(c.size).toBeGreaterThan(5000);
    c.rotate();
    expect(c.size).toBe(0);
  });
});
