import { describe, expect, it } from 'vitest';
import { IdleMemory } from '../../src/runtime/IdleMemory.js';

describe('IdleMemory: releases once signalling is quiet after enough work', () => {
  const options = { checkMs: 1000, quietMs: 3000, minActivity: 100 };

  it('waits for the quiet period after a burst, releases once, and not again until more work came', () => {
    let requests = 0;
    const released: number[] = [];
    const idle = new IdleMemory(() => requests, (n) => released.push(n), options);
    requests += 150;
    idle.check();
    idle.check();
    idle.check();
    expect(released).toEqual([]);
    idle.check();
    expect(released).toEqual([150]);
    for (let i = 0; i < 10; i++) idle.check();
    expect(released).toEqual([150]);
    expect(idle.releases).toBe(1);
  });

  it('never releases while requests keep coming, nor after too little work', () => {
    let requests = 0;
    const released: number[] = [];
    const idle = new IdleMemory(() => requests, (n) => released.push(n), options);
    for (let i = 0; i < 20; i++) {
      requests += 10;
      idle.check();
    }
    expect(released).toEqual([]);
    const small = new IdleMemory(() => requests, (n) => released.push(n), options);
    requests += 99;
    for (let i = 0; i < 10; i++) small.check();
    expect(released).toEqual([]);
    // Work accumulates across quiet spells until it is worth a release.
    requests += 1;
    for (let i = 0; i < 4; i++) small.check();
    expect(released).toEqual([100]);
  });
});
