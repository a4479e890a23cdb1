import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from './generated.js';

// `npm run docs`: writes the compatibility matrix and the man pages from the code's tables.
const root = process.argv[2] ?? process.cwd();
for (const [path, text] of generatedDocs()) {
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
