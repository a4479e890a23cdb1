import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IceAgent, type IceSettings } from '../../src/media/transforms/IceAgent.js';
import { ATTR_XOR_MAPPED_ADDRESS, BINDING_SUCCESS, checkFingerprint, checkIntegrity, parseStun } from '../../src/media/transforms/Stun.js';

/** A binding request as a controlling full agent (a browser) sends it. */
function request(username: string, password: string, useCandidate: boolean, tamper = false): Buffer {
  const attrs: Buffer[] = [];
  const attr = (type: number, value: Buffer): void => {
    const a = Buffer.alloc(4 + ((value.length + 3) & ~3));
    a.writeUInt16BE(type, 0);
    a.writeUInt16BE(value.length, 2);
    value.copy(a, 4);
    attrs.push(a);
  };
  attr(0x0006, Buffer.from(username));
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e7f1eff, 0);
  attr(0x0024, prio);
  if (useCandidate) attr(0x0025, Buffer.alloc(0));
  attr(0x802a, Buffer.alloc(8, 7));
  const header = Buffer.alloc(20);
  header.writeUInt16BE(1, 0);
  header.writeUInt32BE(0x2112a442, 4);
  Buffer.from('0123456789ab').copy(header, 8);
  let body = Buffer.concat([header, ...attrs]);
  body.writeUInt16BE(body.length - 20 + 24, 2);
  const mac = createHmac('sha1', password).update(body).digest();
  attr(0x0008, mac);
  body = Buffer.concat([header, ...attrs]);
  body.writeUInt16BE(body.length - 20 + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(body) ^ 0x5354554e) >>> 0, 0);
  attr(0x8028, fp);
  const out = Buffer.concat([header, ...attrs]);
  out.writeUInt16BE(out.length - 20, 2);
  if (tamper) out[25]! ^= 1;
  return out;
}

/** The lite side (`ICE-lite` option): answers, never checks; what it selects is recorded. */
function liteAgent(family: 4 | 6): { check(p: Buffer, address: string, port: number): { response: Buffer; nominated: boolean } | null } {
  const settings: IceSettings = { ufrag: 'ourufrag', pwd: 'ourpassword0123456789abcd', remote: null, controlling: false, lite: true, component: 1, candidates: [] };
  const agent = new IceAgent(settings, [family], { send: () => undefined, select: () => undefined });
  return {
    check(p, address, port) {
      const m = parseStun(p);
      const response = m && agent.request(m, address, port, 0);
      return response ? { response, nominated: m.attributes.has(0x0025) } : null;
    },
  };
}

describe('ICE-lite STUN', () => {
  const ice = liteAgent(4);
  const ice6 = liteAgent(6);

  it('answers an authenticated binding request with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT', () => {
    const check = ice.check(request('ourufrag:peer', 'ourpassword0123456789abcd', true), '192.0.2.7', 40000)!;
    expect(check.nominated).toBe(true);
    const m = parseStun(check.response)!;
    expect(m.type).toBe(BINDING_SUCCESS);
    expect(m.transactionId.toString()).toBe('0123456789ab');
    expect(checkIntegrity(m, 'ourpassword0123456789abcd')).toBe(true);
    expect(checkFingerprint(m)).toBe(true);
    const xa = m.attributes.get(ATTR_XOR_MAPPED_ADDRESS)!;
    expect(xa.readUInt16BE(2) ^ 0x2112).toBe(40000);
    expect([...xa.subarray(4)].map((b, i) => b ^ [0x21, 0x12, 0xa4, 0x42][i]!).join('.')).toBe('192.0.2.7');
  });

  it('answers IPv6 sources', () => {
    const check = ice6.check(request('ourufrag:peer', 'ourpassword0123456789abcd', false), '2001:db8::1', 5000)!;
    expect(check.nominated).toBe(false);
    const xa = parseStun(check.response)!.attributes.get(ATTR_XOR_MAPPED_ADDRESS)!;
    expect(xa[1]).toBe(2);
    expect(xa.length).toBe(20);
  });

  it('ignores other ufrags, bad integrity, bad fingerprints and garbage', () => {
    expect(ice.check(request('otherufrag:peer', 'ourpassword0123456789abcd', true), '127.0.0.1', 1)).toBeNull();
    expect(ice.check(request('ourufrag:peer', 'wrongpassword', true), '127.0.0.1', 1)).toBeNull();
    expect(ice.check(request('ourufrag:peer', 'ourpassword0123456789abcd', true, true), '127.0.0.1', 1)).toBeNull();
    expect(ice.check(Buffer.alloc(20), '127.0.0.1', 1)).toBeNull();
    const long = Buffer.alloc(20 + 4 * 1000);
    long.writeUInt16BE(1, 0);
    long.writeUInt16BE(4000, 2);
    long.writeUInt32BE(0x2112a442, 4);
    expect(ice.check(long, '127.0.0.1', 1)).toBeNull();
  });
});
