import { afterEach, describe, expect, it } from 'vitest';
import { Member } from '../../src/balancer/Member.js';
import { formatMemberSpec, MemberSpecError, parseMemberSpec } from '../../src/balancer/MemberSpec.js';
import { pickMember } from '../../src/balancer/Placement.js';

let members: Member[] = [];
afterEach(() => {
  for (const m of members) m.close();
  members = [];
});

function member(text: string): Member {
  const m = new Member(parseMemberSpec(text), 100);
  m.online = true;
  members.push(m);
  return m;
}

describe('MemberSpec', () => {
  it('reads rtp_cluster-style member descriptions and writes them back', () => {
    const s = parseMemberSpec('name=relay1,protocol=udp,address=10.0.0.1:2223,capacity=120,weight=300,label=rack-a');
    expect(s).toEqual({ name: 'relay1', address: { host: '10.0.0.1', port: 2223 }, weight: 300, capacity: 120, label: 'rack-a' });
    expect(formatMemberSpec(s)).toBe('name=relay1,address=10.0.0.1:2223,weight=300,capacity=120,label=rack-a');
    expect(parseMemberSpec('address=127.0.0.1:1', 'x')).toMatchObject({ name: 'x', weight: 1, capacity: 1000 });
  });

  it('refuses what it cannot use, naming it', () => {
    for (const [text, msg] of [
      ['address=127.0.0.1:1', "missing 'name'"],
      ['name=a', "missing 'address'"],
      ['name=a,address=nowhere:1', "invalid address 'nowhere:1': invalid address in 'nowhere:1'"],
      ['name=a,address=127.0.0.1:1,weight=-1', "invalid weight '-1'"],
      ['name=a,address=127.0.0.1:1,color=red', "unknown member key 'color'"],
      ['name=a,address=127.0.0.1:1,protocol=tcp', "protocol 'tcp' is not supported (udp only)"],
      ['name=a b,address=127.0.0.1:1', "invalid member name 'a b'"],
      ['name=a,name=b,address=127.0.0.1:1', "'name' given twice"],
      ['constructor', "'constructor' is not key=value"],
    ] as const) {
      expect(() => parseMemberSpec(text)).toThrow(new MemberSpecError(msg));
    }
  });
});

describe('pickMember (smooth weighted round-robin)', () => {
  it('spreads exactly by weight, interleaved', () => {
    const [a, b, c] = [member('name=a,address=127.0.0.1:1,weight=3'), member('name=b,address=127.0.0.1:2,weight=2'), member('name=c,address=127.0.0.1:3,weight=1')];
    const picks = Array.from({ length: 12 }, () => pickMember(members)!.name);
    expect(picks.join('')).toBe('abacbaabacba');
    expect([a, b, c].map((m) => picks.filter((p) => p === m!.name).length)).toEqual([6, 4, 2]);
  });

  it('skips members that are offline, not ACTIVE, full or excluded; weight 0 only as a spare', () => {
    const a = member('name=a,address=127.0.0.1:1,weight=1,capacity=1');
    const spare = member('name=spare,address=127.0.0.1:2,weight=0');
    expect(pickMember(members)).toBe(a);
    a.calls.add('x');
    expect(pickMember(members)).toBe(spare);
    a.calls.clear();
    a.status = 'SUSPENDED';
    expect(pickMember(members)).toBe(spare);
    a.status = 'ACTIVE';
    expect(pickMember(members, new Set([a]))).toBe(spare);
    spare.online = false;
    expect(pickMember(members, new Set([a]))).toBeNull();
  });
});
