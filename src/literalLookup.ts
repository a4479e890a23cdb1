import type dgram from 'node:dgram';

type Lookup = NonNullable<dgram.SocketOptions['lookup']>;

// dgram resolves every bind and send() address through dns.lookup, which costs a tick and
// allocations even for literals; every address the relay binds or sends to is an IP literal.
const literal4 = ((address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void => cb(null, address, 4)) as unknown as Lookup;
const literal6 = ((address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void => cb(null, address, 6)) as unknown as Lookup;

/** The `lookup` option of a UDP socket whose addresses are always IP literals. */
export function literalLookup(family: 4 | 6): Lookup {
  return family === 6 ? literal6 : literal4;
}
