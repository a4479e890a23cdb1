import type { NgDict } from '../NgRequest.js';

export function ping(): NgDict {
  return { result: 'pong' };
}
