import type { EndpointLearning } from '../config/Config.js';

/** Per-call media handling chosen by NG flags and keys. */
export interface LegSettings {
  learning: EndpointLearning;
  strictSource: boolean;
  mediaHandover: boolean;
  asymmetric: boolean;
}
