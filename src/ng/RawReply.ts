/**
 * A reply that is already on the wire format: a node that forwarded a command to the call's
 * owner returns the owner's datagram as it came (cookie included), not a dict re-encoded here.
 */
export class RawReply {
  constructor(
    /** The whole datagram: cookie, space, body in the request's encoding. */
    readonly bytes: Buffer,
    /** The `result` the owner gave, for counters and logs. */
    readonly result: string,
  ) {}
}
