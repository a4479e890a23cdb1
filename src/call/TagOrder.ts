/**
 * The order rtpengine 10.5 lists a call's tags in (DTMF reports): the walk of its GLib hash
 * table of tags, keyed by a djb2 hash of each tag, listed back to front. Consumers that compare
 * reports byte for byte with rtpengine's see the same list. Tags are placed in the order given
 * (the order they joined the call); removed tags are not remembered, and a call of more than
 * seven tags is placed as if the table had been that large from the start.
 */

/** GLib's table sizes: 2^shift slots, indices taken modulo the prime for that shift. */
const PRIMES = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191];
const MIN_SHIFT = 3;

/** rtpengine's str_hash: djb2 over the tag's bytes as signed chars. */
function tagHash(tag: string): number {
  let h = 5381;
  for (const b of Buffer.from(tag)) h = (Math.imul(h, 33) + (b < 128 ? b : b - 256)) >>> 0;
  return h;
}

export function rtpengineTagOrder(tags: readonly string[]): string[] {
  // GLib grows the table once the slots in use reach its size.
  let shift = MIN_SHIFT;
  while (tags.length >= 1 << shift && shift < PRIMES.length - 1) shift++;
  const size = 1 << shift;
  const slots: (string | undefined)[] = new Array<string | undefined>(size);
  for (const tag of tags) {
    let h = tagHash(tag);
    if (h < 2) h = 2;
    let i = Math.imul(h, 11) >>> 0;
    i %= PRIMES[shift]!;
    for (let step = 1; slots[i] !== undefined; step++) i = (i + step) & (size - 1);
    slots[i] = tag;
  }
  return slots.filter((t): t is string => t !== undefined).reverse();
}
