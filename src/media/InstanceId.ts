import { randomBytes } from 'node:crypto';

/**
 * This relay's instance id (12 hex digits, rtpengine's form): the `a=rtpengine:` loop-protection
 * attribute and the CNAME of the RTCP the relay sends for a stream of its own. Made once per
 * process; media workers get the main thread's.
 */
let id = randomBytes(6).toString('hex');
let bytes = Buffer.from(id, 'latin1');

export function instanceId(): string {
  return id;
}

/** The id as bytes (an SDES CNAME), made once. */
export function instanceIdBytes(): Buffer {
  return bytes;
}

/** A media worker takes the main thread's id. */
export function setInstanceId(value: string): void {
  id = value;
  bytes = Buffer.from(value, 'latin1');
}
