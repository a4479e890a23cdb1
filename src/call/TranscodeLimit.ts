import { moduleLogger } from '../log.js';
import type { Services } from '../Services.js';
import type { Call } from './Call.js';
import { converts } from './CodecNegotiation.js';
import { existing, type Dialogue } from './Dialogue.js';
import { TranscodeLimitError } from './errors.js';
import type { Media } from './Media.js';
import type { ExchangePlan } from './OfferAnswer.js';

const log = moduleLogger('transcoding');

const running = (m: Media | undefined): number => (m?.transcoding && !m.rejected ? 1 : 0);

/** Converted streams a planned exchange adds to (or, negative, takes from) the medias it changes. */
function addedConversions(plan: ExchangePlan, senderMedias: readonly Media[], receiverMedias: readonly Media[]): number {
  let added = 0;
  plan.medias.forEach((mp, i) => {
    const sm = senderMedias[i];
    const rm = receiverMedias[i];
    const before = running(sm) + running(rm);
    const neg = mp.negotiated;
    let after = before;
    if (mp.kind !== 'relay') after = 0;
    else if (neg) {
      // As the commit sets them: an offer decides the receiver's direction, an answer both.
      const fromReceiver = converts(neg.fromReceiver, neg.receiver) ? 1 : 0;
      const fromSender = plan.kind === 'answer' ? (converts(neg.fromSender, neg.sender) ? 1 : 0) : running(sm);
      after = fromReceiver + fromSender;
    }
    added += after - before;
  });
  return added;
}

/**
 * `max-transcoded-media`: an offer or answer that would run more converted streams on this
 * relay than allowed is refused before anything about the call changes. The relay is counted
 * only when the exchange adds conversions, so calls without any cost nothing here.
 */
export function checkTranscodeLimit(s: Services, call: Call, plan: ExchangePlan, dialogue: Dialogue, isNew: boolean): void {
  const max = s.limits.maxTranscodedMedia;
  if (max < 0) return;
  const receiver = existing(dialogue.receiver);
  const senderMedias = existing(dialogue.sender)?.medias ?? receiver?.peer?.medias ?? [];
  admitConversions(s, call, addedConversions(plan, senderMedias, receiver?.medias ?? []), isNew);
}

/** Refuses `added` more converted streams for `call` when they would go beyond `max-transcoded-media`. */
export function admitConversions(s: Services, call: Call, added: number, isNew = false): void {
  const max = s.limits.maxTranscodedMedia;
  if (max < 0 || added <= 0) return;
  const now = s.registry.transcodedMedia(true);
  if (now + added <= max) return;
  log.warn({ callId: call.callId }, `Transcoding limit exceeded (${now} + ${added} > ${max})`);
  throw new TranscodeLimitError(isNew);
}
