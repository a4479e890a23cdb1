import type { LegPolicy } from '../media/MediaPlane.js';

/** Per-call media handling chosen by NG flags and keys: the policy every leg of the call gets. */
export type LegSettings = LegPolicy;
