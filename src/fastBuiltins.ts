/**
 * Declaring `class X extends String` (ioredis does, for RESP3 verbatim strings) turns
 * String.prototype into a hash table in V8 until an object of such a class is first written
 * to. Until then every string method call in optimised code (`charCodeAt`, `slice`,
 * `startsWith` ...) goes through V8's generic property lookup: under a churn of calls that
 * was a seventh of the control thread's time, spread over the NG and SDP code. A property
 * store on a String object makes V8 turn the prototypes on its chain back into fast objects.
 * Call once the modules are loaded, in every thread (the relay, its media workers, the balancer).
 */
export function keepBuiltinPrototypesFast(): void {
  const s = new String('') as String & { warm?: boolean };
  s.warm = true;
}
