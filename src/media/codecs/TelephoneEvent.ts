/**
 * RFC 4733 telephone-event payloads: event code, end bit, volume (-dBm0) and duration in
 * timestamp units of the event's clock. Pure reading and writing; the engine owns the timing.
 */
export interface TelephoneEvent {
  /** 0-9, 10 = '*', 11 = '#', 12-15 = A-D, others as RFC 4733 lists them. */
  event: number;
  end: boolean;
  /** 0-63, power level in -dBm0. */
  volume: number;
  /** Timestamp units since the event began (0-65535). */
  duration: number;
}

export const EVENT_PAYLOAD_BYTES = 4;

const DIGITS = '0123456789*#ABCD';

/** The event code of a DTMF digit (`0`-`9`, `*`, `#`, `A`-`D`), or -1. */
export function eventOfDigit(digit: string): number {
  return DIGITS.indexOf(digit.toUpperCase());
}

/** The digit of a DTMF event code, or '' for events that are not digits. */
export function digitOfEvent(event: number): string {
  return event >= 0 && event < 16 ? DIGITS[event]! : '';
}

/** Reads an event from `payload[offset..]`; false when fewer than 4 bytes are there. */
export function readTelephoneEvent(payload: Uint8Array, offset: number, length: number, into: TelephoneEvent): boolean {
  if (length < EVENT_PAYLOAD_BYTES) return false;
  into.event = payload[offset]!;
  const b = payload[offset + 1]!;
  into.end = (b & 0x80) !== 0;
  into.volume = b & 0x3f;
  into.duration = (payload[offset + 2]! << 8) | payload[offset + 3]!;
  return true;
}

/** Writes an event at `out[offset..]`; returns the bytes written (4). */
export function writeTelephoneEvent(out: Uint8Array, offset: number, e: TelephoneEvent): number {
  out[offset] = e.event & 0xff;
  out[offset + 1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  const d = e.duration > 0xffff ? 0xffff : e.duration < 0 ? 0 : e.duration;
  out[offset + 2] = d >> 8;
  out[offset + 3] = d & 0xff;
  return EVENT_PAYLOAD_BYTES;
}
