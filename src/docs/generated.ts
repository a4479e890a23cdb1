import { compatibilityMarkdown } from './compatibility.js';

/** Every file written from the code's tables, by its path in the repository. */
export function generatedDocs(): Map<string, string> {
  return new Map([['docs/compatibility.md', compatibilityMarkdown()]]);
}
