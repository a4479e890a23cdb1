const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes from the wire as a string: UTF-8 when they are valid UTF-8, else one character per
 * byte (latin1), so that distinct invalid call-ids stay distinct instead of collapsing into
 * U+FFFD, and the text `list sessions` prints for one, typed back, finds the same call.
 */
export function wireText(bytes: Uint8Array): string {
  // Plain ASCII is the common case and needs no validation.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}
