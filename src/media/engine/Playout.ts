import type { PlaybackSettings } from './PlaybackSettings.js';
import { Player, type ReportSink } from './Player.js';
import type { PacketSink } from './Transcoder.js';

/**
 * Playbacks towards one party, and the splice that keeps its stream whole around them. While a
 * player runs, the party's own packets are dropped (the player takes their place). When it
 * ends, the party's stream comes back under the same SSRC, renumbered to continue where the
 * player stopped: sequence numbers on by one, timestamps on by the time that passed, marker
 * bit set, so the receiver's jitter buffer sees one stream throughout. Called per packet
 * headed to the party; allocates nothing there.
 */
export class Playout {
  private player: Player | null = null;
  /** The last playback, while nothing else reached the party since: a next one continues its stream. */
  private last: Player | null = null;
  /** The stream being renumbered (-1: none) and its offsets. */
  private ssrc = -1;
  private seqOffset = 0;
  private tsOffset = 0;
  /** Offsets to be taken from the next packet: where the player left the stream. */
  private resync: Player | null = null;
  /** The last digits played: digits queued behind them that come after they ended play on their own. */
  private lastDigits: PlaybackSettings | null = null;

  constructor(
    private readonly sink: PacketSink,
    /** Sender reports of the players' streams (null: none sent). */
    private readonly report: ReportSink | null = null,
  ) {}

  get playing(): boolean {
    return this.player !== null && !this.player.done;
  }

  /** Starts `settings` (the same id again changes nothing), or stops what plays (null). */
  set(settings: PlaybackSettings | null): void {
    if (settings !== null && this.player?.settings.id === settings.id) return;
    if (settings !== null && this.player?.queue(settings)) {
      this.lastDigits = settings;
      return;
    }
    if (settings?.source.kind === 'dtmf') settings = this.unplayed(settings);
    const old = this.player;
    this.player = null;
    old?.close();
    if (old) this.last = old;
    if (settings === null) return;
    try {
      this.player = new Player(settings, this.sink, this.ended, this.last, Date.now(), this.report);
      this.last = null;
    } catch {
      // A codec this build cannot run (opus without libopus): the party's stream goes on.
      this.player = null;
    }
  }

  /** An RTP packet (plain) on its way to the party: renumbered, or dropped (true) while a player runs. */
  pass(p: Uint8Array, length: number, now: number): boolean {
    if (length < 12) return this.playing;
    const ssrc = ((p[8]! << 24) | (p[9]! << 16) | (p[10]! << 8) | p[11]!) >>> 0;
    const seq = (p[2]! << 8) | p[3]!;
    const ts = ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;
    if (ssrc === this.ssrc) this.renumber(p, seq, ts, now);
    const player = this.player;
    if (player === null || player.done) {
      // The party's own stream is back: a next playback takes it over again.
      this.last = null;
      return false;
    }
    if (player.replaced(p, length, now)) return true;
    // Spliced digits that ended with this packet hand the stream back at once.
    if (this.resync !== null) this.renumber(p, seq, ts, now);
    return false;
  }

  close(): void {
    this.player?.close();
    this.player = null;
  }

  /** `seq` and `ts`: the packet's own numbers, as its sender set them. */
  private renumber(p: Uint8Array, seq: number, ts: number, now: number): void {
    const from = this.resync;
    if (from !== null) {
      this.resync = null;
      this.seqOffset = (from.seq - seq) & 0xffff;
      this.tsOffset = (from.timestampAt(now) - ts) >>> 0;
      // A spliced stream's timestamps never broke: no new talkspurt to mark.
      if (!from.spliced) p[1] = p[1]! | 0x80;
    }
    const s = (seq + this.seqOffset) & 0xffff;
    const t = (ts + this.tsOffset) >>> 0;
    p[2] = s >> 8;
    p[3] = s & 0xff;
    p[4] = t >>> 24;
    p[5] = (t >> 16) & 0xff;
    p[6] = (t >> 8) & 0xff;
    p[7] = t & 0xff;
  }

  /** Digits queued behind those of the last digit player, once that player is over: only the new ones. */
  private unplayed(settings: PlaybackSettings): PlaybackSettings {
    const before = this.lastDigits;
    this.lastDigits = settings;
    if (before === null || before.startedAt !== settings.startedAt || before.source.kind !== 'dtmf' || settings.source.kind !== 'dtmf') return settings;
    return { ...settings, source: { kind: 'dtmf', digits: settings.source.digits.slice(before.source.digits.length) } };
  }

  /** A player that took over the party's stream hands it back. */
  private readonly ended = (p: Player): void => {
    this.last = p;
    if (!p.continued) return;
    this.ssrc = p.ssrc;
    this.resync = p;
  };
}
