import { moduleLogger } from '../log.js';
import { decodeRequest, encodeReply, splitCookie, type NgEncoding } from './codec.js';
import { CookieCache } from './CookieCache.js';
import { NgError } from './errors.js';
import { NgRequest, type NgDict } from './NgRequest.js';
import { RawReply } from './RawReply.js';

const log = moduleLogger('ng');

export type NgHandler = (req: NgRequest) => Promise<NgDict | RawReply>;

/**
 * NG requests whatever carries them (UDP datagrams, TCP streams, WebSocket messages, HTTP
 * POSTs): one cookie cache across transports, as rtpengine has, decoding, the command, the
 * reply in the request's encoding. Transports only frame.
 */
export class NgService {
  private readonly cache = new CookieCache();
  /** Requests received on any transport: the relay's measure of signalling activity. */
  requests = 0;

  constructor(private readonly handler: NgHandler) {}

  /**
   * The reply (`COOKIE SP DICT`) to one framed message, or null when rtpengine would drop it
   * silently (no cookie). `limit`: replies longer than this become an error saying so.
   */
  reply(message: Buffer, source: string, limit = Infinity): Promise<Buffer> | null {
    this.requests++;
    const parts = splitCookie(message);
    if (!parts) {
      log.warn({ from: source }, 'NG packet without cookie dropped');
      return null;
    }
    const { cookie, body } = parts;
    const { reply, duplicate } = this.cache.run(cookie, () => this.process(cookie, body, source, limit));
    if (duplicate) log.debug({ cookie, from: source }, 'duplicate NG request answered from cache');
    return reply;
  }

  private async process(cookie: string, body: Buffer, source: string, limit: number): Promise<Buffer> {
    let encoding: NgEncoding = body[0] === 0x7b ? 'json' : 'bencode';
    let dict: NgDict;
    try {
      ({ dict, encoding } = decodeRequest(body));
    } catch (e) {
      const reason = e instanceof NgError ? e.message : 'Could not decode bencode dictionary';
      log.warn({ from: source, reason }, 'undecodable NG request');
      return encodeReply(cookie, { result: 'error', 'error-reason': reason }, encoding);
    }
    const req = new NgRequest(dict, source, { cookie, encoding });
    // The key list, in wire order, shows which flags a proxy module actually turned into keys.
    if (log.isDebug()) log.debug({ cookie, from: source, command: req.command, callId: req.callId, keys: Object.keys(dict) }, 'NG request');
    let out: NgDict | RawReply;
    try {
      out = await this.handler(req);
    } catch (e) {
      // What the command layer did not turn into an NG error (a store that timed out while a
      // cluster node looked up a call's owner ...) still gets a reply: the proxy must not
      // retransmit into silence.
      log.error({ cookie, command: req.command, callId: req.callId, err: (e as Error).message }, 'NG request failed');
      out = { result: 'error', 'error-reason': `Internal error: ${(e as Error).message}` };
    }
    // Another node's reply to this very request (same cookie): passed on unchanged.
    if (out instanceof RawReply) return out.bytes;
    const reply = encodeReply(cookie, out, encoding);
    if (reply.length <= limit) return reply;
    // Sent as it is, it would vanish (EMSGSIZE); the client gets told instead.
    log.warn({ cookie, command: req.command, bytes: reply.length }, 'NG reply too large for one datagram');
    return encodeReply(cookie, { result: 'error', 'error-reason': 'Reply too large for one datagram' }, encoding);
  }

  close(): void {
    this.cache.close();
  }
}
