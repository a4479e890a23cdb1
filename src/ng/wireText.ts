const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from the wire as a string: UTF-8 when they are valid UTF-8, else one character per
 * byte (latin1), so that distinct invalid call-ids stay distinct instead of collapsing into
 * U+FFFD, and the text `list sessions` prints for one, typed back, finds the same call.
 */
export function wireText(bytes: Buffer, start = 0, end = bytes.length): string {
  // Plain ASCII is the common case and needs no validation (nor a view of its own).
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        return utf8.decode(bytes.subarray(start, end));
      } catch {
        return bytes.toString('latin1', start, end);
      }
    }
  }
  return bytes.toString('latin1', start, end);
}
