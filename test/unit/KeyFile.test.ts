import { describe, expect, it } from 'vitest';
import { KeyFileError, parseKeyFile, splitList } from '../../src/config/KeyFile.js';

describe('parseKeyFile', () => {
  it('reads sections, keys and values, skipping comments and blank lines', () => {
    const kf = parseKeyFile(['# comment', '', '[rtpengine]', 'interface = pub/127.0.0.1', '  port-min=30000  ', '; also a comment', '[other]', 'x = 1'].join('\n'));
    expect([...kf.keys()]).toEqual(['rtpengine', 'other']);
    expect(kf.get('rtpengine')!.get('interface')).toBe('pub/127.0.0.1');
    expect(kf.get('rtpengine')!.get('port-min')).toBe('30000');
    expect(kf.get('other')!.get('x')).toBe('1');
  });

  it('accepts CRLF line ends and unescapes GLib escapes', () => {
    const kf = parseKeyFile('[s]\r\na = x\\sy\\\\z\r\nb = tab\\there\r\n');
    expect(kf.get('s')!.get('a')).toBe('x y\\z');
    expect(kf.get('s')!.get('b')).toBe('tab\there');
  });

  it('keeps an empty value and merges a repeated section', () => {
    const kf = parseKeyFile('[s]\na =\n[s]\nb = 2\n');
    expect(kf.get('s')!.get('a')).toBe('');
    expect(kf.get('s')!.get('b')).toBe('2');
  });

  it('names the line of a malformed group header, a line without "=", and a key outside any section', () => {
    expect(() => parseKeyFile('[s\n', 'f.conf')).toThrow(new KeyFileError("f.conf:1: malformed group header '[s'"));
    expect(() => parseKeyFile('[s]\njunk\n', 'f.conf')).toThrow(/f\.conf:2: line is not 'key = value': 'junk'/);
    expect(() => parseKeyFile('a = 1\n', 'f.conf')).toThrow(/f\.conf:1: key outside of any \[section\]/);
  });
});

describe('splitList', () => {
  it('splits on ";", trims, drops empty entries and a trailing separator', () => {
    expect(splitList('a/127.0.0.1; b/127.0.0.2 ;')).toEqual(['a/127.0.0.1', 'b/127.0.0.2']);
    expect(splitList('1')).toEqual(['1']);
    expect(splitList('')).toEqual([]);
    expect(splitList(';;')).toEqual([]);
  });

  it('keeps an escaped "\\;" inside an entry', () => {
    expect(splitList('a\\;b;c')).toEqual(['a;b', 'c']);
  });
});
