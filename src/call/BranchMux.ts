/**
 * The rtcp-mux decision of each via-branch's offer, for the answer that names that branch
 * (forks and re-INVITEs each have their own). Only the latest offers can still be answered:
 * the oldest decision goes once more than `LIMIT` branches are held, so that a long call with
 * many re-INVITEs does not grow it; an answer naming a forgotten branch follows the latest offer.
 */
export class BranchMux {
  static readonly LIMIT = 16;
  private readonly byBranch = new Map<string, boolean | null>();

  /** An offer on `branch` decided `decision` (a repeated branch becomes the latest). */
  offered(branch: string, decision: boolean | null): void {
    this.byBranch.delete(branch);
    this.byBranch.set(branch, decision);
    if (this.byBranch.size > BranchMux.LIMIT) this.byBranch.delete(this.byBranch.keys().next().value!);
  }

  /** The decision of the offer on `branch`, or undefined when that branch is not held. */
  decision(branch: string): boolean | null | undefined {
    return this.byBranch.get(branch);
  }

  /** An offer's branch that ended (its callee side deleted); how many branches are still held. */
  forget(branch: string): number {
    this.byBranch.delete(branch);
    return this.byBranch.size;
  }

  get size(): number {
    return this.byBranch.size;
  }
}
