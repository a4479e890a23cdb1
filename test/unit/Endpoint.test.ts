import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../src/config/Endpoint.js';

describe('parseListenAddress', () => {
  it('takes a bare port on the default host', () => {
    expect(parseListenAddress('2223', '127.0.0.1')).toEqual({ host: '127.0.0.1', port: 2223 });
  });

  it('reads IP:PORT, [IPv6]:PORT and localhost', () => {
    expect(parseListenAddress('10.1.2.3:22222', '127.0.0.1')).toEqual({ host: '10.1.2.3', port: 22222 });
    expect(parseListenAddress('[::1]:9900', '127.0.0.1')).toEqual({ host: '::1', port: 9900 });
    expect(parseListenAddress(' localhost:2223 ', '0.0.0.0')).toEqual({ host: '127.0.0.1', port: 2223 });
  });

  it('rejects bad ports and bad addresses, naming the value', () => {
    expect(() => parseListenAddress('0', '127.0.0.1')).toThrow("invalid port in '0'");
    expect(() => parseListenAddress('65536', '127.0.0.1')).toThrow("invalid port in '65536'");
    expect(() => parseListenAddress('127.0.0.1:x', '127.0.0.1')).toThrow("invalid port in '127.0.0.1:x'");
    expect(() => parseListenAddress('nohost.example:2223', '127.0.0.1')).toThrow("invalid address in 'nohost.example:2223'");
    expect(() => parseListenAddress('', '127.0.0.1')).toThrow(/invalid port/);
  });
});
