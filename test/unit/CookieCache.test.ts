import { afterEach, describe, expect, it } from 'vitest';
import { CookieCache } from '../../src/ng/CookieCache.js';

describe('CookieCache', () => {
  const caches: CookieCache[] = [];
  const cache = (): CookieCache => {
    const c = new CookieCache(3_600_000);
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
});
