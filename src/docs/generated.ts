import { compatibilityMarkdown } from './compatibility.js';
import { balancerMan, ctlMan, ngrelayMan } from './manPages.js';

/** Every file written from the code's tables, by its path in the repository. */
export function generatedDocs(): Map<string, string> {
  return new Map([
    ['docs/compatibility.md', compatibilityMarkdown()],
    ['docs/man/ngrelay.8', ngrelayMan()],
    ['docs/man/ngrelay-ctl.8', ctlMan()],
    ['docs/man/ngrelay-balancer.8', balancerMan()],
  ]);
}
