import type { FileSource } from './PlaybackSettings.js';
import { AUDIO, END, type FrameKind, type PlaybackStream } from './PlaybackStream.js';
import { Resampler } from './Resampler.js';

/** Input read per resampler call: 10 ms at the highest file rate. */
const CHUNK = 1920;

/**
 * A decoded file played at the encoder's rate: rounds from `start-pos` to the end, `repeat`
 * times, cut at the `duration` limit. The file's samples are only read (they are shared
 * between players and threads); resampling runs on the frame, with buffers made once.
 */
export class FileStream implements PlaybackStream {
  private pos: number;
  private round = 0;
  /** Samples produced so far, at `rate`. */
  private produced = 0;
  private readonly limit: number;
  private readonly resampler: Resampler | null;
  private readonly chunk = new Int16Array(CHUNK);
  private readonly fifo: Int16Array;
  private fifoLength = 0;
  /** A file's frames are whole (the last one padded with silence). */
  filled = 0;

  constructor(
    private readonly src: FileSource,
    private readonly rate: number,
    maxFrame: number,
  ) {
    this.pos = src.startSample;
    this.limit = src.limitMs > 0 ? Math.round((src.limitMs * rate) / 1000) : Infinity;
    this.resampler = src.rate === rate ? null : new Resampler(src.rate, rate, CHUNK);
    this.fifo = new Int16Array(maxFrame + (this.resampler?.maxOutput(CHUNK) ?? CHUNK) + 8);
  }

  next(pcm: Int16Array, samples: number): FrameKind {
    if (this.produced >= this.limit) return END;
    while (this.fifoLength < samples && this.more()) this.fill(samples);
    if (this.fifoLength === 0) return END;
    const n = Math.min(samples, this.fifoLength);
    const fifo = this.fifo;
    for (let i = 0; i < n; i++) pcm[i] = fifo[i]!;
    // The last frame of the file is padded with silence.
    for (let i = n; i < samples; i++) pcm[i] = 0;
    fifo.copyWithin(0, n, this.fifoLength);
    this.fifoLength -= n;
    this.produced += samples;
    this.filled = samples;
    return AUDIO;
  }

  advance(ms: number): void {
    const round = this.src.pcm.length - this.src.startSample;
    if (round <= 0) return;
    const at = (this.round * round + (this.pos - this.src.startSample)) + Math.round((ms * this.src.rate) / 1000);
    this.round = Math.floor(at / round);
    this.pos = this.src.startSample + (at % round);
    this.produced += Math.round((ms * this.rate) / 1000);
    this.fifoLength = 0;
    this.resampler?.reset();
  }

  private more(): boolean {
    return this.round < this.src.repeat && this.pos < this.src.pcm.length;
  }

  /** Reads the next chunk of the file (resampled) into the queue. */
  private fill(samples: number): void {
    const { pcm } = this.src;
    const want = this.resampler === null ? Math.min(CHUNK, samples - this.fifoLength) : CHUNK;
    const n = Math.min(want, pcm.length - this.pos);
    const fifo = this.fifo;
    if (this.resampler === null) {
      for (let i = 0; i < n; i++) fifo[this.fifoLength + i] = pcm[this.pos + i]!;
      this.fifoLength += n;
    } else {
      const chunk = this.chunk;
      for (let i = 0; i < n; i++) chunk[i] = pcm[this.pos + i]!;
      const out = this.resampler.process(chunk, n, this.resampled);
      for (let i = 0; i < out; i++) fifo[this.fifoLength + i] = this.resampled[i]!;
      this.fifoLength += out;
    }
    this.pos += n;
    if (this.pos >= pcm.length) {
      this.round++;
      this.pos = this.src.startSample;
    }
  }

  private readonly resampled = new Int16Array(CHUNK * 24 + 8);
}
