import type { InterfaceSpec } from '../config/InterfaceSpec.js';
import { PortPool } from './PortPool.js';

/** One address of a logical interface, with its own port pool. */
export interface LocalAddress {
  name: string;
  address: string;
  advertised: string;
  family: 4 | 6;
  pool: PortPool;
}

/** The logical interfaces of the `interface` option, by name, in configuration order. */
export class LocalInterfaces {
  private readonly byName = new Map<string, LocalAddress[]>();
  readonly all: LocalAddress[] = [];

  constructor(specs: InterfaceSpec[], portMin: number, portMax: number) {
    const pools = new Map<string, PortPool>();
    for (const spec of specs) {
      // Two names on one address share its ports.
      let pool = pools.get(spec.address);
      if (!pool) {
        pool = new PortPool(spec.address, spec.family, portMin, portMax);
        pools.set(spec.address, pool);
      }
      const la: LocalAddress = { ...spec, pool };
      this.all.push(la);
      const list = this.byName.get(spec.name) ?? [];
      list.push(la);
      this.byName.set(spec.name, list);
    }
  }

  /** The first configured interface: it carries own calls without a `direction`. */
  get defaultName(): string {
    return this.all[0]!.name;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The address of `name` for `family`, falling back to the interface's first address. */
  pick(name: string, family?: 4 | 6): LocalAddress | undefined {
    const list = this.byName.get(name);
    if (!list) return undefined;
    return (family && list.find((a) => a.family === family)) || list[0];
  }

  /**
   * The addresses of `local`'s interface other than itself, in rtpengine's candidate order:
   * those of its family first, then the others, each in configuration order.
   */
  othersOf(local: LocalAddress): LocalAddress[] {
    const list = (this.byName.get(local.name) ?? []).filter((a) => a !== local && a.address !== local.address);
    return [...list.filter((a) => a.family === local.family), ...list.filter((a) => a.family !== local.family)];
  }

  /** Exact match, used when restoring a record that names the address it was bound on. */
  find(name: string, address: string): LocalAddress | undefined {
    return this.byName.get(name)?.find((a) => a.address === address);
  }
}
