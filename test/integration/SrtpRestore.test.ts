import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterRelay, numSessions } from '../helpers/cluster.js';
import { RedisServer } from '../helpers/RedisServer.js';
import { waitFor, type Relay } from '../helpers/Relay.js';
import { SdesCall, SRTP_SSRC } from '../helpers/SdesCall.js';

/**
 * Chunks of 20 packets whose sequence numbers jump by 8,000 and wrap twice: both parties'
 * streams reach rollover counter 2 in a few hundred packets (werift-rtp, like libsrtp,
 * counts a wrap only across consecutive numbers, hence the chunks across 65535).
 */
const TO_ROC_2 = [65526, 8000, 16000, 24000, 32000, 40000, 48000, 56000, 65526, 8000];

interface StreamIndex {
  ssrc: number;
  roc: number;
}

/** The highest ROC the call's record gives for the SRTP party's SSRC on the relay's receiving side. */
async function recordedRoc(redis: RedisServer, callId: string): Promise<number> {
  const [json] = await redis.client(1).smembers(callId);
  if (!json) return -1;
  let roc = -1;
  for (const party of JSON.parse(json).parties) {
    for (const media of party.medias) {
      for (const stream of media.streams) for (const i of (stream.srtp?.recv ?? []) as StreamIndex[]) if (i.ssrc === SRTP_SSRC) roc = Math.max(roc, i.roc);
    }
  }
  return roc;
}

for (const threads of [0, 2]) {
  describe(`an SDES call at rollover counter 2 through SIGKILL and restore (num-threads ${threads})`, () => {
    let redis: RedisServer;
    let relay: Relay;
    let call: SdesCall;
    beforeAll(async () => {
      redis = await RedisServer.start();
      relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], args: [`--num-threads=${threads}`] });
    });
    afterAll(async () => {
      call?.close();
      await relay?.stop();
      await redis?.stop();
    });

    it('keeps every packet both ways: the record carries the rollover counters', async () => {
      const callId = `srtp-roc-${threads}`;
      call = await SdesCall.place(relay, callId);
      for (const first of TO_ROC_2) expect(await call.stream(first, 20)).toEqual({ atPlain: 20, atSrtp: 20 });
      // Written when the ROC changed, not per packet: wait for it to be in Redis before the kill.
      await waitFor('ROC 2 in the record', async () => (await recordedRoc(redis, callId)) === 2);
      await relay.stop('SIGKILL');
      relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], args: [`--num-threads=${threads}`], portMin: relay.portMin, portMax: relay.portMax });
      expect(await numSessions(relay)).toEqual({ own: 1, foreign: 0, total: 1 });
      expect(await call.stream(8020, 600)).toEqual({ atPlain: 600, atSrtp: 600 });
    });
  });
}
