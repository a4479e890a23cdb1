/**
 * Errors of the call model, thrown before anything about the call changed (offer and answer
 * validate first, then commit). `ng/` maps each to rtpengine's error text in one place.
 */

/** `direction` or a party names a logical interface the relay does not have. */
export class UnknownInterfaceError extends Error {
  constructor(readonly interfaceName: string) {
    super(`Unknown logical interface '${interfaceName}'`);
  }
}

/** The tags do not name a dialogue of the call (rtpengine: "Invalid dialogue association"). */
export class DialogueError extends Error {}

/** The call ended while the request waited for it (rtpengine: "Unknown call-id"). */
export class CallGoneError extends Error {}

/** `max-sessions` own calls exist already (rtpengine: "Parallel session limit reached"). */
export class SessionLimitError extends Error {}

/**
 * The change would run more converted streams than `max-transcoded-media`; `newCall`: the
 * offer would have created the call (another relay may take it).
 */
export class TranscodeLimitError extends Error {
  constructor(readonly newCall: boolean) {
    super('transcoded media limit reached');
  }
}

/** Why a request naming parties (`from-tag`, `from-tags`, `label`, `address`, `all`) names none. */
export type SelectionFailure = 'label' | 'address-syntax' | 'address' | 'from-tag' | 'none-matched' | 'no-participant';

/** A party selector matched nothing; ng/ gives each reason rtpengine's text. */
export class PartySelectionError extends Error {
  constructor(readonly reason: SelectionFailure) {
    super(`party selection failed: ${reason}`);
  }
}

/** `subscribe answer` names a tag the call does not have. */
export class UnknownToTagError extends Error {}

/** A subscription cannot be set up as asked: nothing changed (rtpengine: "Failed to request subscription" / "... process subscription answer"). */
export class SubscriptionError extends Error {
  constructor(
    readonly stage: 'request' | 'answer',
    why: string,
  ) {
    super(why);
  }
}
