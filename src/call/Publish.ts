import type { Services } from '../Services.js';
import { codecList, isSupplemental, matches, ptimeOf, type Codec } from '../sdp/codecs.js';
import { isSrtpProtocol } from '../sdp/crypto.js';
import { generateSdp, mirroredOrigin, relayOrigin, relaySessionName } from '../sdp/generate.js';
import { mediaConnection, parseSdp, type MediaDescription } from '../sdp/SessionDescription.js';
import type { Call } from './Call.js';
import { CallGoneError, DialogueError } from './errors.js';
import { Media } from './Media.js';
import { allocatePairs, configureLegs, linkSubscriptions, setPartyEndpoints } from './MediaSetup.js';
import { afterSignalling } from './Signalling.js';
import type { Stream } from './Stream.js';
import { transcodable } from './Transcoding.js';

/**
 * `publish`, as rtpengine 10.5 does it: a party offers media to the relay alone (no dialogue),
 * the relay answers recvonly with one codec per media section, and other parties can then
 * subscribe to it (`subscribe request`). What the publisher sends goes nowhere but to its subscribers.
 */

export interface PublishOptions {
  callId: string;
  fromTag: string;
  sdp: string;
  /** `codec: {accept: [...]}`: the codecs preferred, in order. */
  accept: readonly string[];
  /** ip:port of the request (a call it creates records it). */
  source: string;
}

/** The one codec a publisher's media is answered with: the first `accept` names, else the first the relay can convert, else the first. */
function chosenCodec(md: MediaDescription, accept: readonly string[]): Codec | null {
  const codecs = codecList(md, md.formats).filter((c) => c.encoding !== '' && !isSupplemental(c));
  for (const spec of accept) {
    const c = codecs.find((x) => matches(x, spec));
    if (c) return c;
  }
  return codecs.find((c) => transcodable(c)) ?? codecs[0] ?? null;
}

/** `publish`: creates (or re-creates) the publishing party; returns the relay's recvonly answer. */
export async function publish(s: Services, opts: PublishOptions): Promise<string> {
  const sd = parseSdp(opts.sdp);
  let call = s.registry.get(opts.callId);
  const isNew = !call;
  if (!call) {
    call = s.registry.create(opts.callId, false);
    call.createdFrom = opts.source;
    call.ownerId = s.config.nodeId;
  }
  const c = call;
  return c.serialize(async () => {
    if (c.destroyed) throw new CallGoneError();
    try {
      return await publishOn(s, c, opts, sd);
    } catch (e) {
      if (isNew) s.registry.destroy(c, 'error');
      throw e;
    }
  });
}

async function publishOn(s: Services, call: Call, opts: PublishOptions, sd: ReturnType<typeof parseSdp>): Promise<string> {
  const existing = call.findByTag(opts.fromTag);
  // A party of a dialogue or a subscriber does not publish as well.
  if (existing && (existing.peer !== null || existing.subscriptions.length > 0)) throw new DialogueError();
  const interfaceName = existing?.interfaceName ?? s.interfaces.defaultName;
  const plans = sd.medias.map((md) => {
    const codec = md.port === 0 || !md.protocol.includes('RTP/') || isSrtpProtocol(md.protocol) ? null : chosenCodec(md, opts.accept);
    const family = mediaConnection(sd, md)?.family ?? 4;
    return { md, codec, local: codec ? s.interfaces.pick(interfaceName, family) ?? null : null };
  });
  const pairs = await allocatePairs(s.media, call, plans.map((p) => p.local));
  const now = Date.now();
  const ml = existing ?? call.addMonologue(opts.fromTag, now, interfaceName);
  for (const m of ml.medias) m.close();
  ml.medias = plans.map((p, i) => publishedMedia(sd, p.md, p.codec, i, pairs[i]));
  ml.family = ml.medias.find((m) => m.rtp)?.rtp!.local.family ?? ml.family;
  ml.sdpSeen = true;
  ml.ownOrigin = mirroredOrigin(sd) ?? undefined;
  configureLegs(ml, call.legSettings ?? { learning: s.config.endpointLearning, strictSource: false, mediaHandover: false, asymmetric: false }, s.hooks.legObserver(call), s.hooks.tap(call));
  for (const m of ml.medias) setPartyEndpoints(m, now);
  linkSubscriptions(call);
  call.lastSignal = now;
  await afterSignalling(s, call);
  const first = ml.medias.find((m) => m.rtp)?.rtp!.local;
  return generateSdp({
    origin: relayOrigin(first?.family ?? 4, first?.advertised ?? '0.0.0.0'),
    sessionName: relaySessionName(),
    address: first?.advertised ?? '0.0.0.0',
    family: first?.family ?? 4,
    sessionConnection: false,
    // The most the relay does is receive.
    medias: ml.medias.map((m) => ({ type: m.type, protocol: m.protocol, port: m.rtp?.localPort ?? 0, rtcpPort: m.rtcp?.localPort ?? 0, codecs: m.sent, direction: m.sending ? 'recvonly' : 'inactive', ptime: m.ptime })),
  });
}

function publishedMedia(sd: ReturnType<typeof parseSdp>, md: MediaDescription, codec: Codec | null, i: number, pair: Stream[] | undefined): Media {
  const m = new Media(i + 1);
  m.type = md.type;
  m.protocol = md.protocol;
  m.sent = codec ? [codec] : [];
  m.formats = m.sent.map((c) => c.pt);
  m.codecs = m.sent.map((c) => `${c.encoding}/${c.clock}${c.channels > 1 ? `/${c.channels}` : ''}`);
  m.ptime = ptimeOf(md);
  m.direction = md.direction ?? sd.direction ?? 'sendrecv';
  if (!pair) {
    m.rejected = true;
    return m;
  }
  [m.rtp, m.rtcp] = pair as [Stream, Stream];
  m.sdpAddress = mediaConnection(sd, md)?.address ?? null;
  m.sdpRtpPort = md.port;
  m.sdpRtcpPort = md.rtcpPort ?? md.port + 1;
  return m;
}
