import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clusterRelay, numSessions, waitSessions } from '../helpers/cluster.js';
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
async function recordedRoc(redis: RedisServer, callId: string, db = 1): Promise<number> {
  const [json] = await redis.client(db).smembers(callId);
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

/** Whether the call's record holds the keys of a DTLS handshake. */
async function recordedDtlsKeys(redis: RedisServer, callId: string, db = 1): Promise<boolean> {
  const [json] = await redis.client(db).smembers(callId);
  if (!json) return false;
  return (JSON.parse(json).parties as { medias: { streams: { srtp?: { dtlsKeys?: unknown } }[] }[] }[]).some((p) => p.medias.some((m) => m.streams.some((s) => s.srtp?.dtlsKeys !== undefined)));
}

describe('a DTLS-SRTP call through SIGKILL and restore', () => {
  let redis: RedisServer;
  let relay: Relay;
  let call: SdesCall;
  beforeAll(async () => {
    redis = await RedisServer.start();
    relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'] });
  });
  afterAll(async () => {
    call?.close();
    await relay?.stop();
    await redis?.stop();
  });

  it('keeps every packet both ways without a new handshake: the record carries the keys the handshake made', async () => {
    call = await SdesCall.placeDtls(relay, 'dtls-restore');
    expect(await call.stream(65500, 60)).toEqual({ atPlain: 60, atSrtp: 60 });
    await waitFor('the handshake keys in the record', () => recordedDtlsKeys(redis, 'dtls-restore'));
    await relay.stop('SIGKILL');
    relay = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1'], portMin: relay.portMin, portMax: relay.portMax });
    expect(await numSessions(relay)).toEqual({ own: 1, foreign: 0, total: 1 });
    expect(await call.stream(24, 300)).toEqual({ atPlain: 300, atSrtp: 300 });
  });
});

describe('an encrypted call taken over by a standby', () => {
  // Each case SIGKILLs the owner: a fresh pair (owner r1, standby r2) for each.
  let redis: RedisServer;
  let r1: Relay;
  let r2: Relay;
  let call: SdesCall;
  beforeEach(async () => {
    redis = await RedisServer.start();
    r1 = await clusterRelay(redis, 1, { interfaces: ['pub1/127.0.0.1;pub2/127.0.0.4'], subscribe: [2] });
    r2 = await clusterRelay(redis, 2, { interfaces: ['pub2/127.0.0.2;pub1/127.0.0.3'], subscribe: [1] });
  });
  afterEach(async () => {
    call?.close();
    await r1?.stop();
    await r2?.stop();
    await redis?.stop();
  });

  it('SDES at rollover counter 2: keeps every packet both ways once the media reaches the standby', async () => {
    call = await SdesCall.place(r1, 'srtp-takeover');
    await waitSessions(r2, { own: 0, foreign: 1 });
    for (const first of TO_ROC_2) expect(await call.stream(first, 20)).toEqual({ atPlain: 20, atSrtp: 20 });
    await waitFor('ROC 2 in the record', async () => (await recordedRoc(redis, 'srtp-takeover')) === 2);
    // The standby reads the record on its keyspace event (milliseconds on loopback).
    await new Promise((r) => setTimeout(r, 500));
    await r1.stop('SIGKILL');
    // The owner's address moves to the standby (here: the parties send to the standby's address for pub1).
    call.relayAddress = '127.0.0.3';
    expect(await call.stream(8020, 600)).toEqual({ atPlain: 600, atSrtp: 600 });
    await waitSessions(r2, { own: 1, foreign: 0 });
    await waitFor('ROC 2 in the new owner\'s record', async () => (await recordedRoc(redis, 'srtp-takeover', 2)) === 2);
  });

  it('DTLS-SRTP: keeps every packet both ways without a new handshake once the media reaches the standby', async () => {
    call = await SdesCall.placeDtls(r1, 'dtls-takeover');
    await waitSessions(r2, { own: 0, foreign: 1 });
    expect(await call.stream(65500, 60)).toEqual({ atPlain: 60, atSrtp: 60 });
    await waitFor('the handshake keys in the record', () => recordedDtlsKeys(redis, 'dtls-takeover'));
    await waitFor('ROC 1 in the record', async () => (await recordedRoc(redis, 'dtls-takeover')) === 1);
    // The standby reads the record on its keyspace event (milliseconds on loopback).
    await new Promise((r) => setTimeout(r, 500));
    await r1.stop('SIGKILL');
    call.relayAddress = '127.0.0.3';
    expect(await call.stream(24, 300)).toEqual({ atPlain: 300, atSrtp: 300 });
    await waitSessions(r2, { own: 1, foreign: 0 });
    await waitFor('the handshake keys in the new owner\'s record', () => recordedDtlsKeys(redis, 'dtls-takeover', 2));
  });
});
