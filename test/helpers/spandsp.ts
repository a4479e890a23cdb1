import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * libspandsp's G.711 and G.722 as a reference coder (test/fixtures/spandsp-codec.c), compiled
 * once per test file. Needs cc and libspandsp-dev (`.ci/run` installs them); without them the
 * compile fails and so does the test.
 */
export class SpandspCodec {
  private readonly bin: string;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'spandsp-'));
    this.bin = join(dir, 'spandsp-codec');
    const src = new URL('../fixtures/spandsp-codec.c', import.meta.url).pathname;
    execFileSync('cc', ['-O2', '-o', this.bin, src, '-lspandsp'], { stdio: 'pipe' });
  }

  run(mode: 'ulaw-enc' | 'ulaw-dec' | 'alaw-enc' | 'alaw-dec' | 'g722-enc' | 'g722-dec', input: Uint8Array): Buffer {
    return execFileSync(this.bin, [mode], { input, maxBuffer: 64 << 20 });
  }

  encode(mode: 'ulaw-enc' | 'alaw-enc' | 'g722-enc', pcm: Int16Array): Uint8Array {
    return new Uint8Array(this.run(mode, new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)));
  }

  decode(mode: 'ulaw-dec' | 'alaw-dec' | 'g722-dec', bytes: Uint8Array): Int16Array {
    const b = this.run(mode, bytes);
    return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
}
