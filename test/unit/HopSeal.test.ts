import { describe, expect, it } from 'vitest';
import { HopSeal } from '../../src/cluster/HopSeal.js';

describe('HopSeal', () => {
  const secret = Buffer.alloc(32, 7);
  const seal = new HopSeal(secret);

  it('accepts what a node with the same secret sealed', () => {
    const mac = new HopSeal(Buffer.from(secret)).seal('c1', 'node-a', '10.0.0.1:5060');
    expect(seal.check('c1', 'node-a', '10.0.0.1:5060', mac)).toBe(true);
  });

  it('refuses another cookie, node, requester or secret, and anything not a string', () => {
    const mac = seal.seal('c1', 'node-a', '10.0.0.1:5060');
    expect(seal.check('c2', 'node-a', '10.0.0.1:5060', mac)).toBe(false);
    expect(seal.check('c1', 'node-b', '10.0.0.1:5060', mac)).toBe(false);
    expect(seal.check('c1', 'node-a', '10.0.0.2:5060', mac)).toBe(false);
    expect(new HopSeal(Buffer.alloc(32, 8)).check('c1', 'node-a', '10.0.0.1:5060', mac)).toBe(false);
    expect(seal.check('c1', 'node-a', '10.0.0.1:5060', undefined)).toBe(false);
    expect(seal.check('c1', 'node-a', '10.0.0.1:5060', Buffer.from(mac))).toBe(false);
    expect(seal.check('c1', undefined, '10.0.0.1:5060', mac)).toBe(false);
    expect(seal.check('c1', 'node-a', '10.0.0.1:5060', mac.slice(1))).toBe(false);
  });

  it('makes a new 32-byte secret each time', () => {
    const a = HopSeal.newSecret();
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(HopSeal.newSecret()).not.toBe(a);
  });
});
