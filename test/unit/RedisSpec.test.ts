import { describe, expect, it } from 'vitest';
import { describeRedis, parseRedisSpec } from '../../src/config/RedisSpec.js';

describe('parseRedisSpec', () => {
  it('reads HOST:PORT/DB', () => {
    expect(parseRedisSpec('127.0.0.1:6379/1')).toEqual({ host: '127.0.0.1', port: 6379, db: 1, password: undefined });
  });

  it('reads a password prefix, up to the last "@"', () => {
    expect(parseRedisSpec('p@ss@10.0.0.1:6380/2')).toEqual({ host: '10.0.0.1', port: 6380, db: 2, password: 'p@ss' });
  });

  it('reads a bracketed IPv6 host and a hostname', () => {
    expect(parseRedisSpec('[::1]:6379/0').host).toBe('::1');
    expect(parseRedisSpec('redis.example:6379/3').host).toBe('redis.example');
  });

  it('takes the password from the environment when the spec has none', () => {
    expect(parseRedisSpec('127.0.0.1:6379/1', 'envpw').password).toBe('envpw');
    expect(parseRedisSpec('own@127.0.0.1:6379/1', 'envpw').password).toBe('own');
    expect(parseRedisSpec('127.0.0.1:6379/1', '').password).toBeUndefined();
  });

  it('rejects a missing db, a bad port and junk', () => {
    expect(() => parseRedisSpec('127.0.0.1:6379')).toThrow('expected [PW@]HOST:PORT/DB');
    expect(() => parseRedisSpec('127.0.0.1:0/1')).toThrow('invalid port 0');
    expect(() => parseRedisSpec('127.0.0.1:70000/1')).toThrow('invalid port 70000');
    expect(() => parseRedisSpec('not a spec')).toThrow();
  });

  it('never shows the password in its description', () => {
    expect(describeRedis(parseRedisSpec('secret@127.0.0.1:6379/1'))).toBe('***@127.0.0.1:6379/1');
    expect(describeRedis(parseRedisSpec('127.0.0.1:6379/1'))).toBe('127.0.0.1:6379/1');
  });
});
