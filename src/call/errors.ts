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
