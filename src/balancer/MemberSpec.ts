import type { ListenAddress } from '../config/Endpoint.js';
import { parseListenAddress } from '../config/Endpoint.js';

/** One relay behind the balancer, as configured: `name=a,address=IP:PORT,weight=1,capacity=1000,label=x`. */
export interface MemberSpec {
  name: string;
  address: ListenAddress;
  weight: number;
  capacity: number;
  label?: string;
}

export class MemberSpecError extends Error {}

const NAME = /^[A-Za-z0-9_.:#-]{1,64}$/;

/** Parses `key=value` pairs separated by commas; `name` may also be given separately (config file key). */
export function parseMemberSpec(text: string, name?: string): MemberSpec {
  const fields = new Map<string, string>();
  if (text.length > 1024) throw new MemberSpecError('member description too long');
  for (const part of text.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new MemberSpecError(`'${p}' is not key=value`);
    const k = p.slice(0, eq).trim().toLowerCase();
    if (fields.has(k)) throw new MemberSpecError(`'${k}' given twice`);
    fields.set(k, p.slice(eq + 1).trim());
  }
  for (const k of fields.keys()) {
    if (!['name', 'address', 'weight', 'capacity', 'label', 'protocol'].includes(k)) throw new MemberSpecError(`unknown member key '${k}'`);
  }
  // rtp_cluster's `protocol=udp` is accepted; NG is spoken over UDP only.
  const protocol = fields.get('protocol');
  if (protocol !== undefined && protocol !== 'udp') throw new MemberSpecError(`protocol '${protocol}' is not supported (udp only)`);
  const n = name ?? fields.get('name');
  if (n === undefined) throw new MemberSpecError("missing 'name'");
  if (!NAME.test(n)) throw new MemberSpecError(`invalid member name '${n}'`);
  const addr = fields.get('address');
  if (addr === undefined) throw new MemberSpecError("missing 'address'");
  let address: ListenAddress;
  try {
    address = parseListenAddress(addr, '127.0.0.1');
  } catch (e) {
    throw new MemberSpecError(`invalid address '${addr}': ${(e as Error).message}`);
  }
  const int = (k: string, dflt: number, min: number): number => {
    const v = fields.get(k);
    if (v === undefined) return dflt;
    if (!/^\d{1,9}$/.test(v) || Number(v) < min) throw new MemberSpecError(`invalid ${k} '${v}'`);
    return Number(v);
  };
  const label = fields.get('label');
  if (label !== undefined && !/^[\x21-\x7e]{0,64}$/.test(label.replace(/,/g, ''))) throw new MemberSpecError(`invalid label '${label}'`);
  return { name: n, address, weight: int('weight', 1, 0), capacity: int('capacity', 1000, 0), label: label || undefined };
}

/** The text form, as the config file and `save` write it (without the name). */
export function formatMemberSpec(m: MemberSpec, withName = true): string {
  const host = m.address.host.includes(':') ? `[${m.address.host}]` : m.address.host;
  const parts = withName ? [`name=${m.name}`] : [];
  parts.push(`address=${host}:${m.address.port}`, `weight=${m.weight}`, `capacity=${m.capacity}`);
  if (m.label) parts.push(`label=${m.label}`);
  return parts.join(',');
}
