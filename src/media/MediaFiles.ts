import { readFile, stat } from 'node:fs/promises';
import { decodeWav, MediaFileError, type DecodedAudio } from './engine/WavFile.js';

/** Files larger than this are refused (an hour of 48 kHz 16-bit mono is 330 MB; prompts are far smaller). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Decoded samples kept in memory across files, least recently played evicted first. */
export const CACHE_BYTES = 256 * 1024 * 1024;

interface Entry {
  audio: DecodedAudio;
  mtimeMs: number;
  size: number;
}

/**
 * Media files for playback, read and decoded once on the control thread and kept (bounded):
 * a file played again costs one stat (a changed file is read again), and media threads get
 * the samples in shared memory, never touching the file system.
 */
export class MediaFiles {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly budget = CACHE_BYTES) {}

  /** The decoded file; throws MediaFileError (or the file system's error) when it cannot be played. */
  async load(path: string): Promise<DecodedAudio> {
    const st = await stat(path);
    if (!st.isFile()) throw new MediaFileError('not a file');
    const hit = this.entries.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
      // Most recently used last.
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit.audio;
    }
    if (st.size > MAX_FILE_BYTES) throw new MediaFileError('file too large');
    const audio = decodeWav(await readFile(path));
    this.drop(path);
    this.entries.set(path, { audio, mtimeMs: st.mtimeMs, size: st.size });
    this.bytes += audio.pcm.byteLength;
    for (const [k] of this.entries) {
      if (this.bytes <= this.budget || k === path) break;
      this.drop(k);
    }
    return audio;
  }

  /** Files cached and the bytes their samples take. */
  get stats(): { files: number; bytes: number } {
    return { files: this.entries.size, bytes: this.bytes };
  }

  private drop(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.entries.delete(path);
    this.bytes -= e.audio.pcm.byteLength;
  }
}

/** The relay's one cache. */
export const mediaFiles = new MediaFiles();
