import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaCall } from '../helpers/MediaCall.js';
import { Relay, sleep } from '../helpers/Relay.js';
import { tsharkFields } from '../helpers/tshark.js';

/** The one pcap file of a call in `dir`. */
function recordingOf(dir: string, callId: string): string {
  const files = readdirSync(dir).filter((f) => f.startsWith(callId) && f.endsWith('.pcap'));
  if (files.length !== 1) throw new Error(`expected one recording of ${callId} in ${dir}, found ${JSON.stringify(readdirSync(dir))}`);
  return join(dir, files[0]!);
}

/** Relays `n` packets each way and waits until both phones have them. */
async function talk(call: MediaCall, n: number, first: number): Promise<void> {
  const a = call.caller.received.length;
  const b = call.callee.received.length;
  call.callerSends(n, first, 0xca11e4);
  call.calleeSends(n, first, 0xca11ee);
  await call.callee.waitFor(b + n);
  await call.caller.waitFor(a + n);
}

/**
 * ip.src, udp.srcport, ip.dst, udp.dstport, RTP seq, RTP SSRC of every UDP packet. The RTP
 * fields come from udp.payload: tshark picks dissectors by port, and relay ports are random.
 */
function packets(file: string): string[][] {
  return tsharkFields(file, ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'udp.payload'], 'udp').map(([src, sport, dst, dport, payload]) => [
    src!, sport!, dst!, dport!, String(parseInt(payload!.slice(4, 8), 16)), `0x${payload!.slice(16, 24)}`,
  ]);
}

for (const format of ['raw', 'eth'] as const) {
  describe(`pcap recording, recording-format=${format}`, () => {
    let relay: Relay;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ngrelay-rec-'));
      relay = await Relay.start({ args: ['--delete-delay=0', '--recording-method=pcap', `--recording-dir=${dir}`, `--recording-format=${format}`] });
    });
    afterAll(async () => {
      expect(await relay.stop()).toBe(0);
    });

    it('records every relayed packet of a call started with the `record call` key', async () => {
      const call = await MediaCall.establish(relay, { offer: { 'record call': 'yes' } });
      await talk(call, 5, 0);
      await call.delete();
      const rows = packets(recordingOf(dir, call.callId));
      expect(rows).toHaveLength(10);
      // Towards the callee: from the relay port it sends to, to its SDP port; and back.
      const toCallee = rows.filter((r) => r[3] === String(call.callee.port));
      const toCaller = rows.filter((r) => r[3] === String(call.caller.port));
      expect(toCallee.map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual(
        [0, 1, 2, 3, 4].map((s) => ['127.0.0.1', String(call.toCallee.port), '127.0.0.1', String(s), '0x00ca11e4']),
      );
      expect(toCaller.map((r) => [r[1], r[4], r[5]])).toEqual([0, 1, 2, 3, 4].map((s) => [String(call.toCaller.port), String(s), '0x00ca11ee']));
      if (format === 'eth') {
        expect(tsharkFields(recordingOf(dir, call.callId), ['eth.type']).every((r) => r[0] === '0x0800')).toBe(true);
      }
      call.close();
    });

    it('records while `start recording` … `stop recording` is in force (flag `record call` works too)', async () => {
      const call = await MediaCall.establish(relay);
      await talk(call, 2, 0);
      await relay.ng.ok({ command: 'start recording', 'call-id': call.callId });
      await talk(call, 3, 2);
      await relay.ng.ok({ command: 'stop recording', 'call-id': call.callId });
      await talk(call, 4, 5);
      await call.delete();
      const rows = packets(recordingOf(dir, call.callId));
      expect(rows.map((r) => Number(r[4])).sort()).toEqual([2, 2, 3, 3, 4, 4]);

      const flagged = await MediaCall.establish(relay, { offer: { flags: ['record call'] } });
      await talk(flagged, 2, 0);
      await flagged.delete();
      await sleep(50);
      expect(packets(recordingOf(dir, flagged.callId))).toHaveLength(4);
      call.close();
      flagged.close();
    });

    it('a call terminated from the CLI keeps in its file every packet relayed before', async () => {
      const call = await MediaCall.establish(relay, { offer: { flags: ['record call'] } });
      await talk(call, 3, 0);
      expect(await relay.cli(`terminate ${call.callId}`)).toBe(`\nCall Id (${call.callId}) successfully terminated by operator.\n\n`);
      expect(packets(recordingOf(dir, call.callId))).toHaveLength(6);
      call.close();
    });

    it('does not record calls that did not ask for it', async () => {
      const call = await MediaCall.establish(relay);
      await talk(call, 2, 0);
      await call.delete();
      expect(readdirSync(dir).some((f) => f.startsWith(call.callId))).toBe(false);
      call.close();
    });
  });
}
