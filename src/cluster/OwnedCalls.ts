import type { Claims } from '../store/SharedCallStore.js';

/** The calls this node claimed in the shared keyspace, with their ownership generation. */
export class OwnedCalls implements Claims {
  private readonly gens = new Map<string, number>();

  set(callId: string, gen: number): void {
    this.gens.set(callId, gen);
  }

  gen(callId: string): number | undefined {
    return this.gens.get(callId);
  }

  drop(callId: string): void {
    this.gens.delete(callId);
  }

  get size(): number {
    return this.gens.size;
  }
}
