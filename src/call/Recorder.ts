import { join } from 'node:path';
import type { Config } from '../config/Config.js';
import { moduleLogger } from '../log.js';
import type { PacketTap } from '../media/MediaPlane.js';
import { PcapWriter } from '../media/PcapWriter.js';
import type { CallHooks } from '../Services.js';
import type { Call } from './Call.js';

const log = moduleLogger('recording');

function setTap(call: Call, tap: PacketTap | null): void {
  for (const st of call.streams()) st.leg?.setTap(tap);
}

/** `recording-method=pcap`: one pcap file per call in `recording-dir`. */
export class Recorder implements Pick<CallHooks, 'tap' | 'startRecording' | 'stopRecording' | 'pauseRecording'> {
  private readonly writers = new WeakMap<Call, PcapWriter>();
  /** Recordings paused: their file stays open, no packet is written until they start again. */
  private readonly paused = new WeakSet<Call>();

  constructor(private readonly config: Pick<Config, 'recordingDir' | 'recordingFormat'>) {}

  tap(call: Call): PacketTap | null {
    return this.paused.has(call) ? null : (this.writers.get(call) ?? null);
  }

  startRecording(call: Call): void {
    const open = this.writers.get(call);
    if (open) {
      if (this.paused.delete(call)) {
        setTap(call, open);
        log.info({ callId: call.callId }, 'recording resumed');
      }
      return;
    }
    const dir = this.config.recordingDir;
    if (!dir) {
      log.warn({ callId: call.callId }, 'recording requested but no recording-dir is configured');
      return;
    }
    const file = join(dir, `${call.callId.replace(/[^A-Za-z0-9_.@-]/g, '_')}-${call.created}.pcap`);
    try {
      const w = new PcapWriter(file, this.config.recordingFormat);
      this.writers.set(call, w);
      call.recording = w;
      setTap(call, w);
      log.info({ callId: call.callId, file }, 'recording started');
    } catch (e) {
      log.error({ callId: call.callId, err: (e as Error).message }, 'cannot open recording file');
    }
  }

  pauseRecording(call: Call): void {
    if (!this.writers.has(call) || this.paused.has(call)) return;
    this.paused.add(call);
    setTap(call, null);
    log.info({ callId: call.callId }, 'recording paused');
  }

  stopRecording(call: Call): void {
    const w = this.writers.get(call);
    this.paused.delete(call);
    if (!w) return;
    setTap(call, null);
    w.close();
    this.writers.delete(call);
    call.recording = null;
  }
}
