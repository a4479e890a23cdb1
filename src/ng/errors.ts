import { CallGoneError, DialogueError, PartySelectionError, SessionLimitError, SubscriptionError, TranscodeLimitError, UnknownInterfaceError, UnknownToTagError, type SelectionFailure } from '../call/errors.js';
import { PortsExhaustedError } from '../media/PortPool.js';
import { SdpIncompleteError, SdpParseError } from '../sdp/SessionDescription.js';

/** rtpengine 10.5's NG error reasons; operators grep their logs for these exact texts. */
export const NgErrorText = {
  noPayload: 'Invalid data (no payload)',
  badBencode: 'Could not decode bencode dictionary',
  badJson: 'Failed to parse JSON document',
  badFormat: 'Invalid NG data format',
  noCommand: 'Dictionary contains no key "command"',
  unknownCommand: 'Unrecognized command',
  noSdp: 'No SDP body in message',
  noCallId: 'No call-id in message',
  noFromTag: 'No from-tag in message',
  noToTag: 'No to-tag in message',
  unknownCallId: 'Unknown call-id',
  /** Block, silence, forwarding and play commands say it with a capital ID. */
  unknownCallIdCapital: 'Unknown call-ID',
  noLabelMatch: 'No monologue matching the given label',
  badAddress: 'Failed to parse network address',
  noAddressMatch: 'Failed to match address to any tag',
  noSuchFromTag: 'From-tag given, but no such tag exists',
  sdpParse: 'Failed to parse SDP',
  incompleteSdp: 'Incomplete SDP specification',
  dialogue: 'Invalid dialogue association',
  noPorts: 'Ran out of ports',
  notFound: "Call-ID not found or tags didn't match",
  sessionLimit: 'Parallel session limit reached',
  /** Not in rtpengine 10.5 (it has no such limit): worded as its `load limit` messages. */
  transcodeLimit: 'Transcoding limit exceeded',
  invalidLimit: 'invalid limit, must be >= 0',
  noParticipant: 'No call participant specified',
  noneMatched: 'No monologues matched',
  toTagNotFound: 'To-tag not found',
  subscribeRequest: 'Failed to request subscription',
  subscribeAnswer: 'Failed to process subscription answer',
} as const;

/** What rtpengine answers when a party selector names nobody. */
const SELECTION_TEXT: ReadonlyMap<SelectionFailure, string> = new Map<SelectionFailure, string>([
  ['no-participant', NgErrorText.noParticipant],
  ['none-matched', NgErrorText.noneMatched],
  ['from-tag', NgErrorText.noSuchFromTag],
  ['label', NgErrorText.noLabelMatch],
  ['address-syntax', NgErrorText.badAddress],
  ['address', NgErrorText.noAddressMatch],
]);

/** An error meant for the NG client: its message becomes `error-reason`. */
export class NgError extends Error {
  /** `load limit` replies go to clients that announced `supports: [load limit]`. */
  constructor(
    message: string,
    readonly loadLimit = false,
  ) {
    super(message);
  }
}

/**
 * The one place where errors of the layers below become rtpengine's texts.
 */
export function toNgError(e: unknown): NgError | null {
  if (e instanceof NgError) return e;
  if (e instanceof UnknownInterfaceError) return new NgError(e.message);
  if (e instanceof DialogueError) return new NgError(NgErrorText.dialogue);
  if (e instanceof CallGoneError) return new NgError(NgErrorText.unknownCallId);
  if (e instanceof SessionLimitError) return new NgError(NgErrorText.sessionLimit, true);
  if (e instanceof TranscodeLimitError) return new NgError(NgErrorText.transcodeLimit, e.newCall);
  if (e instanceof SdpIncompleteError) return new NgError(NgErrorText.incompleteSdp);
  if (e instanceof SdpParseError) return new NgError(NgErrorText.sdpParse);
  if (e instanceof PortsExhaustedError) return new NgError(NgErrorText.noPorts);
  if (e instanceof PartySelectionError) return new NgError(SELECTION_TEXT.get(e.reason)!);
  if (e instanceof UnknownToTagError) return new NgError(NgErrorText.toTagNotFound);
  if (e instanceof SubscriptionError) return new NgError(e.stage === 'request' ? NgErrorText.subscribeRequest : NgErrorText.subscribeAnswer);
  return null;
}
