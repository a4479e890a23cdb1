import { loadAddon } from '../../runtime/nativeAddon.js';

interface Binding {
  create(): object;
  feed(detector: object, pcm: Int16Array, samples: number, out: Int32Array): number;
  close(detector: object): void;
}

/** Reports one call can return. */
const MAX_REPORTS = 16;

/**
 * libspandsp's DTMF receiver, the detector rtpengine runs on the audio it converts, on 8 kHz
 * samples. Each report is a change of digit: its character code (0: the digit ended), its
 * level in dBm0, and how many samples after the previous report it was made.
 */
export class DtmfReceiver {
  /** The last `feed`'s reports: (character, level, delay) triples. */
  readonly reports = new Int32Array(MAX_REPORTS * 3);
  private detector: object | null;

  private constructor(private readonly b: Binding) {
    this.detector = b.create();
  }

  /** A receiver, or null when the relay was built without libspandsp. */
  static create(): DtmfReceiver | null {
    const b = loadAddon<Binding>('dtmf_rx');
    return b ? new DtmfReceiver(b) : null;
  }

  /** Runs `pcm[0..samples)` through the receiver: the number of reports it made. */
  feed(pcm: Int16Array, samples: number): number {
    return this.detector ? Math.max(0, this.b.feed(this.detector, pcm, samples, this.reports)) : 0;
  }

  close(): void {
    if (this.detector) this.b.close(this.detector);
    this.detector = null;
  }
}
