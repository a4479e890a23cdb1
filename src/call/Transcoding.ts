import { canTranscode } from '../media/engine/CodecCatalog.js';
import type { PayloadFormat } from '../media/engine/TranscodeSettings.js';
import type { Codec } from '../sdp/codecs.js';

/** Whether the engine can convert to and from this codec. */
export const transcodable = (c: Omit<Codec, 'pt'>): boolean => canTranscode(c);

export const sameCodec = (a: Omit<Codec, 'pt'>, b: Omit<Codec, 'pt'>): boolean =>
  a.encoding.toLowerCase() === b.encoding.toLowerCase() && a.clock === b.clock && a.channels === b.channels;

/** A codec as the pipeline takes it. */
export const format = (c: Codec): PayloadFormat => ({ pt: Number(c.pt), encoding: c.encoding, clock: c.clock, channels: c.channels, ...(c.fmtp ? { fmtp: c.fmtp } : {}) });
