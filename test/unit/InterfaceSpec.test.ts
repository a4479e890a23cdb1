import { describe, expect, it } from 'vitest';
import { InterfaceSpecError, parseInterfaceSpec } from '../../src/config/InterfaceSpec.js';

describe('parseInterfaceSpec', () => {
  it('defaults the name to "default" and the advertised address to the address', () => {
    expect(parseInterfaceSpec('127.0.0.1')).toEqual({ name: 'default', address: '127.0.0.1', advertised: '127.0.0.1', family: 4 });
  });

  it('reads NAME/IP!ADVERTISED', () => {
    expect(parseInterfaceSpec(' pub/10.0.0.5!203.0.113.5 ')).toEqual({ name: 'pub', address: '10.0.0.5', advertised: '203.0.113.5', family: 4 });
  });

  it('reads IPv6 addresses, plain and named, with an advertised address', () => {
    expect(parseInterfaceSpec('::1')).toEqual({ name: 'default', address: '::1', advertised: '::1', family: 6 });
    expect(parseInterfaceSpec('v6/2001:db8::1!2001:db8::99')).toEqual({ name: 'v6', address: '2001:db8::1', advertised: '2001:db8::99', family: 6 });
  });

  it('accepts the BASE:SUFFIX name form', () => {
    expect(parseInterfaceSpec('pub:1/127.0.0.1').name).toBe('pub:1');
  });

  it('rejects what is not an address, a bad advertised address, two "!" and a bad name', () => {
    expect(() => parseInterfaceSpec('pub/eth0.example')).toThrow(InterfaceSpecError);
    expect(() => parseInterfaceSpec('pub/300.1.1.1')).toThrow("'300.1.1.1' is not an IP address");
    expect(() => parseInterfaceSpec('127.0.0.1!nope')).toThrow("advertised address 'nope' is not an IP address");
    expect(() => parseInterfaceSpec('127.0.0.1!1.1.1.1!2.2.2.2')).toThrow(/too many '!'/);
    expect(() => parseInterfaceSpec('bad name/127.0.0.1')).toThrow("invalid interface name 'bad name'");
    expect(() => parseInterfaceSpec('')).toThrow(InterfaceSpecError);
  });
});
