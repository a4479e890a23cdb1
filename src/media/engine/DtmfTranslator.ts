import { EVENT_PAYLOAD_BYTES, readTelephoneEvent, writeTelephoneEvent, type TelephoneEvent } from '../codecs/TelephoneEvent.js';

/**
 * The one place RFC 4733 events change clock rate: an event's duration is counted in its
 * telephone-event clock, so passing a digit from a 48 kHz stream to an 8 kHz one divides it by
 * six (not doing so stretches or scrambles digits). Every event block of a packet is translated.
 */
const scratch: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };

/** Translates `length` bytes of events at `inClock` into `out` at `outClock`; returns bytes written, or 0 if malformed. */
export function translateEvents(payload: Uint8Array, offset: number, length: number, inClock: number, out: Uint8Array, outOffset: number, outClock: number): number {
  if (length < EVENT_PAYLOAD_BYTES) return 0;
  let n = 0;
  for (let o = 0; o + EVENT_PAYLOAD_BYTES <= length; o += EVENT_PAYLOAD_BYTES) {
    readTelephoneEvent(payload, offset + o, length - o, scratch);
    if (inClock !== outClock) scratch.duration = Math.round((scratch.duration * outClock) / inClock);
    n += writeTelephoneEvent(out, outOffset + n, scratch);
  }
  return n;
}
