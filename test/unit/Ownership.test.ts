import { describe, expect, it } from 'vitest';
import { claimBeats, updatesHeld } from '../../src/store/Ownership.js';

describe('Ownership: which record of a call wins', () => {
  it('a higher generation wins whoever wrote it', () => {
    expect(claimBeats({ generation: 2, owner: 'relay9' }, { generation: 1, owner: 'relay1' })).toBe(true);
    expect(claimBeats({ generation: 1, owner: 'relay1' }, { generation: 2, owner: 'relay9' })).toBe(false);
  });

  it('two takeovers at one generation: the node id that sorts first, the same on every relay', () => {
    const a = { generation: 3, owner: 'relay2' };
    const b = { generation: 3, owner: 'relay3' };
    expect([claimBeats(a, b), claimBeats(b, a)]).toEqual([true, false]);
    expect(claimBeats(a, a)).toBe(false);
    expect([updatesHeld(a, a), updatesHeld(b, a)]).toEqual([true, false]);
  });

  it('generation 0 is a creation: no relay takes another relay’s call of the same id', () => {
    const a = { generation: 0, owner: 'relay1' };
    const b = { generation: 0, owner: 'relay2' };
    expect([claimBeats(a, b), claimBeats(b, a)]).toEqual([false, false]);
    expect(updatesHeld(b, a)).toBe(true);
  });
});
