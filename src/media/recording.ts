import { join } from 'node:path';
import type { Call } from '../call/Call.js';
import { moduleLogger } from '../log.js';
import type { CallHooks, Services } from '../Services.js';
import { PcapWriter } from './PcapWriter.js';
import type { PacketTap } from './MediaPlane.js';

const log = moduleLogger('recording');

function setTap(call: Call, tap: PacketTap | null): void {
  for (const st of call.streams()) st.leg?.setTap(tap);
}

/** `recording-method=pcap`: one pcap file per call in `recording-dir`. */
export function recordingHooks(s: Services): Pick<CallHooks, 'tap' | 'startRecording' | 'stopRecording'> {
  const writers = new WeakMap<Call, PcapWriter>();
  return {
    tap: (call) => writers.get(call) ?? null,
    startRecording(call) {
      if (writers.has(call)) return;
      const dir = s.config.recordingDir;
      if (!dir) {
        log.warn({ callId: call.callId }, 'recording requested but no recording-dir is configured');
        return;
      }
      const file = join(dir, `${call.callId.replace(/[^A-Za-z0-9_.@-]/g, '_')}-${call.created}.pcap`);
      try {
        const w = new PcapWriter(file, s.config.recordingFormat);
        writers.set(call, w);
        call.recording = w;
        setTap(call, w);
        log.info({ callId: call.callId, file }, 'recording started');
      } catch (e) {
        log.error({ callId: call.callId, err: (e as Error).message }, 'cannot open recording file');
      }
    },
    stopRecording(call) {
      const w = writers.get(call);
      if (!w) return;
      setTap(call, null);
      w.close();
      writers.delete(call);
      call.recording = null;
    },
  };
}
