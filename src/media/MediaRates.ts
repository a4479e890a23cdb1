import { mediaCounters } from './MediaCounters.js';

/** Packets, bytes and errors per second over the last sampling interval (rtpengine's rate lines). */
export class MediaRates {
  packets = 0;
  bytes = 0;
  errors = 0;
  private last = { at: 0, packets: 0, bytes: 0, errors: 0 };

  /** Called about once a second (the lifecycle sweep). */
  sample(now: number): void {
    const prev = this.last;
    const cur = { at: now, packets: mediaCounters.packets, bytes: mediaCounters.bytes, errors: mediaCounters.errors };
    if (prev.at > 0 && now > prev.at) {
      const s = (now - prev.at) / 1000;
      this.packets = Math.round((cur.packets - prev.packets) / s);
      this.bytes = Math.round((cur.bytes - prev.bytes) / s);
      this.errors = Math.round((cur.errors - prev.errors) / s);
    }
    this.last = cur;
  }
}
