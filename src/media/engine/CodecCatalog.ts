import type { AudioDecoder, AudioEncoder } from '../codecs/AudioCodec.js';
import { CN_MAX_SAMPLES, CN_RATE, ComfortNoiseDecoder, comfortNoiseAvailable } from '../codecs/ComfortNoiseDecoder.js';
import { G722Decoder, G722Encoder } from '../codecs/G722.js';
import { G729Decoder, G729Encoder, g729Available } from '../codecs/G729.js';
import { GsmDecoder, GsmEncoder, gsmAvailable } from '../codecs/Gsm.js';
import { OpusDecoder, OpusEncoder, opusAvailable } from '../codecs/Opus.js';
import { PcmaDecoder, PcmaEncoder } from '../codecs/Pcma.js';
import { PcmuDecoder, PcmuEncoder } from '../codecs/Pcmu.js';
import { SpeexDecoder, SpeexEncoder, isSpeexRate, speexAvailable } from '../codecs/Speex.js';
import type { PayloadFormat } from './TranscodeSettings.js';

/**
 * The codecs the engine converts between, by SDP name and clock rate: what each decodes to and
 * how to make one. The only place that maps a payload format to a codec implementation.
 */
type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;

const name = (f: { encoding: string }): string => f.encoding.toLowerCase();

export const isTelephoneEvent = (f: { encoding: string }): boolean => name(f) === 'telephone-event';
export const isComfortNoise = (f: { encoding: string }): boolean => name(f) === 'cn';
const isOpus = (f: { encoding: string }): boolean => name(f) === 'opus';

/** G.711 runs at its RTP clock, as rtpengine runs it: the rates the resampler converts between. */
const isG711Rate = (clock: number): boolean => clock === 8000 || clock === 16000 || clock === 24000 || clock === 48000;

/** Whether the engine can decode and encode this format. */
export function canTranscode(f: { encoding: string; clock: number }): boolean {
  switch (name(f)) {
    case 'pcmu':
    case 'pcma':
      return isG711Rate(f.clock);
    case 'g722':
      return f.clock === 8000;
    case 'opus':
      return f.clock === 48000 && opusAvailable();
    case 'g729':
    case 'g729a':
      return f.clock === 8000 && g729Available();
    case 'gsm':
      return f.clock === 8000 && gsmAvailable();
    case 'speex':
      return isSpeexRate(f.clock) && speexAvailable();
    default:
      return false;
  }
}

/** The sample rate a format's codec works at natively (G.722: 16 kHz on an 8 kHz RTP clock). */
export function nativeRate(f: PayloadFormat): number {
  return name(f) === 'g722' ? 16000 : f.clock;
}

/** Sample rate to run the pipeline at between these two: opus adapts to the other side's. */
export function workingRate(input: PayloadFormat, output: PayloadFormat): number {
  if (isOpus(output) && !isOpus(input)) return nativeRate(input);
  return nativeRate(output);
}

/** An fmtp parameter's value, e.g. `stereo` in `minptime=10;stereo=1`. */
export function fmtpParam(f: PayloadFormat, key: string): string | undefined {
  for (const part of (f.fmtp ?? '').split(';')) {
    const [k, v] = part.split('=');
    if (k?.trim().toLowerCase() === key) return v?.trim();
  }
  return undefined;
}

/**
 * A CN decoder making `frame` samples at `rate` per payload (the receiver's packet), or null when
 * the binding was not built or the packet is longer than the decoder makes.
 */
export function createNoiseDecoder(frame: number, rate: number): AudioDecoder | null {
  const samples = Math.round((frame * CN_RATE) / rate);
  if (!comfortNoiseAvailable() || samples <= 0 || samples > CN_MAX_SAMPLES) return null;
  return new ComfortNoiseDecoder(samples);
}

/** A decoder of `f` that produces mono samples at `rate`, or null (rate not the codec's). */
export function createDecoder(f: PayloadFormat, rate: number): AudioDecoder | null {
  switch (name(f)) {
    case 'pcmu':
      return rate === f.clock && isG711Rate(rate) ? new PcmuDecoder(rate) : null;
    case 'pcma':
      return rate === f.clock && isG711Rate(rate) ? new PcmaDecoder(rate) : null;
    case 'g722':
      return rate === 16000 ? new G722Decoder() : null;
    case 'g729':
    case 'g729a':
      return rate === 8000 ? new G729Decoder() : null;
    case 'gsm':
      return rate === 8000 ? new GsmDecoder() : null;
    case 'speex':
      return rate === f.clock && isSpeexRate(rate) ? new SpeexDecoder(rate) : null;
    case 'opus':
      // libopus mixes a stereo stream down and resamples inside the decoder.
      return new OpusDecoder({ sampleRate: rate as OpusRate, channels: 1 });
    default:
      return null;
  }
}

/** An encoder of `f` that takes samples at `rate` (mono, or stereo for opus with stereo=1). */
export function createEncoder(f: PayloadFormat, rate: number): AudioEncoder | null {
  switch (name(f)) {
    case 'pcmu':
      return rate === f.clock && isG711Rate(rate) ? new PcmuEncoder(rate) : null;
    case 'pcma':
      return rate === f.clock && isG711Rate(rate) ? new PcmaEncoder(rate) : null;
    case 'g722':
      return rate === 16000 ? new G722Encoder() : null;
    case 'g729':
    case 'g729a':
      return rate === 8000 ? new G729Encoder() : null;
    case 'gsm':
      return rate === 8000 ? new GsmEncoder() : null;
    case 'speex':
      return rate === f.clock && isSpeexRate(rate) ? new SpeexEncoder(rate) : null;
    case 'opus': {
      const bitrate = Number(fmtpParam(f, 'maxaveragebitrate')) || 0;
      return new OpusEncoder({
        sampleRate: rate as OpusRate,
        channels: fmtpParam(f, 'stereo') === '1' ? 2 : 1,
        bitrate,
        fec: fmtpParam(f, 'useinbandfec') === '1',
      });
    }
    default:
      return null;
  }
}
