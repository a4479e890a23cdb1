/** Mono ↔ stereo for interleaved 16-bit samples (in place is allowed for downmix). */
export function downmix(stereo: Int16Array, samples: number, mono: Int16Array): void {
  for (let i = 0; i < samples; i++) mono[i] = (stereo[2 * i]! + stereo[2 * i + 1]!) >> 1;
}

/** Duplicates each mono sample into both channels (`stereo` must not overlap `mono`). */
export function upmix(mono: Int16Array, samples: number, stereo: Int16Array): void {
  for (let i = samples - 1; i >= 0; i--) {
    const v = mono[i]!;
    stereo[2 * i] = v;
    stereo[2 * i + 1] = v;
  }
}
