import type { MediaPlane } from '../media/MediaPlane.js';

/** `list workers`: the media worker threads and their share of the calls (ngrelay's own). */
export function listWorkers(media: MediaPlane): string {
  const t = media.threads();
  if (t.length === 0) return 'Media is relayed on the control thread (num-threads = 0).\n';
  return t.map((w) => `Worker ${w.index}: ${w.legs} ports, ${w.packets} packets relayed in userspace, ${w.youngCollections} young-generation collections, ${Math.round(w.gcMs)} ms collecting\n`).join('');
}

/** `workers kill N`: stops a worker as if it had died; the relay restarts it and carries its calls on. */
export async function killWorker(media: MediaPlane, arg: string | undefined): Promise<string> {
  if (arg === undefined) return 'More parameters required.\n';
  if (!/^\d+$/.test(arg) || !(await media.killThread(Number(arg)))) return `No media worker '${arg}'.\n`;
  return `Media worker ${arg} stopped; it is being restarted with its calls.\n`;
}

/** `workers hang N`, `workers reject N`: a fault in a worker, for tests (NGRELAY_TEST_HOOKS=1); otherwise an unknown command. */
export function injectWorkerFault(media: MediaPlane, fault: 'hang' | 'reject', arg: string | undefined): string | null {
  if (arg === undefined || !/^\d+$/.test(arg) || !media.injectFault(Number(arg), fault)) return null;
  return `Media worker ${arg}: ${fault} injected.\n`;
}
