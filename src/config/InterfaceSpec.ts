import { isIP } from 'node:net';

/** One `[NAME/]IP[!ADVERTISED]` entry of the `interface` option. */
export interface InterfaceSpec {
  name: string;
  address: string;
  advertised: string;
  family: 4 | 6;
}

export class InterfaceSpecError extends Error {}

export function parseInterfaceSpec(spec: string): InterfaceSpec {
  let rest = spec.trim();
  let name = 'default';
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    name = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new InterfaceSpecError(`invalid interface name '${name}'`);
  }
  const [address = '', advertised, extra] = rest.split('!');
  if (extra !== undefined) throw new InterfaceSpecError(`too many '!' in '${spec}'`);
  const family = isIP(address);
  if (family === 0) throw new InterfaceSpecError(`'${address}' is not an IP address`);
  if (advertised !== undefined && isIP(advertised) === 0) {
    throw new InterfaceSpecError(`advertised address '${advertised}' is not an IP address`);
  }
  return { name, address, advertised: advertised ?? address, family: family as 4 | 6 };
}
