import type { PartySelector } from '../../call/PartySelector.js';
import * as publishing from '../../call/Publish.js';
import * as pubsub from '../../call/Subscriptions.js';
import { parseOfferAnswer } from '../flags.js';
import type { Services } from '../../Services.js';
import { NgError, NgErrorText } from '../errors.js';
import type { NgDict, NgRequest } from '../NgRequest.js';
import { controlledCall } from './mediaControl.js';

/** Which parties the request names: flag `all` (or key `all: all`), `label`, `address`, `from-tag`, `from-tags` (or flags `from-tags-TAG`). */
function selector(req: NgRequest): PartySelector {
  const fromTags = req.rawList('from-tags');
  for (const f of req.rawFlags) if (/^from[-_ ]tags[-_ ]/i.test(f)) fromTags.push(f.slice('from-tags-'.length));
  return {
    all: req.has('all') || req.str('all') === 'all',
    label: req.str('label') ?? req.str('from-label'),
    address: req.str('address'),
    fromTag: req.fromTag,
    fromTags,
  };
}

/** `subscribe request`: a new party receives a copy of the named parties' media; the reply carries its offer. */
export async function subscribeRequest(s: Services, req: NgRequest): Promise<NgDict> {
  const call = controlledCall(s, req);
  const r = await pubsub.subscribeRequest(s, call, {
    selector: selector(req),
    toTag: req.toTag || undefined,
    setLabel: req.str('set-label') ?? req.str('to-label'),
  });
  const reply: NgDict = { sdp: r.sdp };
  if (r.fromTags.length === 1) reply['from-tag'] = r.fromTags[0]!;
  reply['from-tags'] = r.fromTags;
  reply['to-tag'] = r.toTag;
  return reply;
}

/** `subscribe answer`: the subscriber's SDP; its copies start. */
export async function subscribeAnswer(s: Services, req: NgRequest): Promise<NgDict> {
  const call = controlledCall(s, req);
  const toTag = req.toTag;
  if (!toTag) throw new NgError(NgErrorText.noToTag);
  const sdp = req.sdp;
  if (!sdp) throw new NgError(NgErrorText.noSdp);
  await pubsub.subscribeAnswer(s, call, { toTag, sdp, allowTranscoding: req.has('allow-transcoding') });
  return {};
}

/** `publish`: a party offers media to the relay alone; the reply is the relay's recvonly answer with one codec per section. */
export async function publish(s: Services, req: NgRequest): Promise<NgDict> {
  // The offer's checks and codec keys (`codec: {accept: [...]}`).
  const opts = parseOfferAnswer(req, 'offer');
  const sdp = await publishing.publish(s, { callId: opts.callId, fromTag: opts.fromTag, sdp: opts.sdp, accept: opts.codec.accept, source: req.source });
  return { sdp };
}

/** `unsubscribe`: the subscriber named by `to-tag` gets no more copies. */
export async function unsubscribe(s: Services, req: NgRequest): Promise<NgDict> {
  const call = controlledCall(s, req);
  const toTag = req.toTag;
  if (!toTag) throw new NgError(NgErrorText.noToTag);
  await pubsub.unsubscribe(s, call, toTag);
  return {};
}
