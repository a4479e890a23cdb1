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
  if (family === 0) throw new InterfaceSpecError(`'${address}' is not an IP address or a network interface of this host`);
  if (advertised !== undefined && isIP(advertised) === 0) {
    throw new InterfaceSpecError(`advertised address '${advertised}' is not an IP address`);
  }
  return { name, address, advertised: advertised ?? address, family: family as 4 | 6 };
}

/** The system's network interfaces and their addresses (os.networkInterfaces(), reduced). */
export type SystemInterfaces = Map<string, { address: string; family: 4 | 6; internal: boolean }[]>;

/** IPv6 link-local addresses need a scope and are never media addresses (rtpengine skips them too). */
const usable = (a: { address: string; family: 4 | 6 }): boolean => !(a.family === 6 && /^fe[89ab]/i.test(a.address));

/**
 * One `interface` value as rtpengine reads it: `[NAME/]ADDR[!ADVERTISED]` where ADDR is an IP
 * address, a system interface name (all its addresses) or `any` (every address of every
 * interface but loopback). An advertised address applies to the addresses of its family.
 */
export function resolveInterfaceSpec(spec: string, system: SystemInterfaces): InterfaceSpec[] {
  const s = spec.trim();
  const slash = s.indexOf('/');
  const name = slash >= 0 ? s.slice(0, slash) : 'default';
  const [host = '', advertised] = (slash >= 0 ? s.slice(slash + 1) : s).split('!');
  if (host !== 'any' && !system.has(host)) return [parseInterfaceSpec(spec)];
  // Checks the name and the advertised address with the usual rules.
  const check = parseInterfaceSpec(`${slash >= 0 ? `${name}/` : ''}127.0.0.1${advertised !== undefined ? `!${advertised}` : ''}`);
  const addrs = host === 'any'
    ? [...system.values()].flat().filter((a) => !a.internal)
    : (system.get(host) ?? []);
  const out = addrs.filter(usable).map((a): InterfaceSpec => ({
    name,
    address: a.address,
    advertised: advertised !== undefined && isIP(advertised) === a.family ? check.advertised : a.address,
    family: a.family,
  }));
  if (out.length === 0) throw new InterfaceSpecError(`'${host}' has no usable address`);
  return out;
}
