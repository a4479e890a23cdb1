import { loadAddon } from './nativeAddon.js';

interface MemoryAddon {
  release(trimMalloc: boolean): void;
}

/**
 * Gives this thread's garbage back to the system now: V8 collects and compacts every
 * generation, shrinks the young one and unmaps the pages it freed (a pause of a few
 * milliseconds per thread); `trimMalloc` also returns the C heap's free memory (process-wide,
 * so the control thread asks for it). False when the addon was not built.
 */
export function releaseMemory(trimMalloc: boolean): boolean {
  const addon = loadAddon<MemoryAddon>('memory');
  if (!addon) return false;
  addon.release(trimMalloc);
  return true;
}
