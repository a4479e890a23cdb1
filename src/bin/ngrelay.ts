#!/bin/sh
//bin/true; exec /usr/bin/env NODE_OPTIONS="--max-semi-space-size=16 --v8-pool-size=1 ${NODE_OPTIONS-}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" node "$0" "$@"
// The line above runs when this file is executed (the installed `ngrelay`): a shell execs Node
// with the relay's runtime settings, in place. To Node it is a comment (runtimeSettings.ts).
import { runWithRuntimeSettings } from './runtimeSettings.js';

await runWithRuntimeSettings(async () => {
  const { main } = await import('../main.js');
  await main(process.argv.slice(2));
});
