import dgram from 'node:dgram';
import { listenUdp } from './listenUdp.js';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { decodeRequest, encodeReply, splitCookie, type NgEncoding } from './codec.js';
import { CookieCache } from './CookieCache.js';
import { NgError } from './errors.js';
import { NgRequest, type NgDict } from './NgRequest.js';
import { RawReply } from './RawReply.js';

const log = moduleLogger('ng');

/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;

export type NgHandler = (req: NgRequest) => Promise<NgDict | RawReply>;

/** The NG control listener over UDP: framing, encodings, the cookie cache, replies to the sender. */
export class NgServer {
  private socket: dgram.Socket | null = null;
  private readonly cache = new CookieCache();
  /** Datagrams received: the relay's measure of signalling activity. */
  requests = 0;

  constructor(private readonly handler: NgHandler) {}

  async listen(addr: ListenAddress): Promise<void> {
    const socket = await listenUdp(addr);
    socket.on('error', (err) => log.error({ err: err.message }, 'NG socket error'));
    socket.on('message', (msg, rinfo) => this.onPacket(msg, rinfo));
    this.socket = socket;
    log.info({ address: `${addr.host}:${addr.port}` }, 'NG listener ready');
  }

  private onPacket(packet: Buffer, rinfo: dgram.RemoteInfo): void {
    this.requests++;
    const parts = splitCookie(packet);
    if (!parts) {
      log.warn({ from: `${rinfo.address}:${rinfo.port}` }, 'NG packet without cookie dropped');
      return;
    }
    const { cookie, body } = parts;
    const source = `${rinfo.address}:${rinfo.port}`;
    const { reply, duplicate } = this.cache.run(cookie, () => this.process(cookie, body, source));
    if (duplicate) log.debug({ cookie, from: source }, 'duplicate NG request answered from cache');
    reply.then(
      (bytes) => this.socket?.send(bytes, rinfo.port, rinfo.address),
      (err: Error) => log.error({ cookie, err: err.message }, 'NG reply failed'),
    );
  }

  private async process(cookie: string, body: Buffer, source: string): Promise<Buffer> {
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
    if (reply.length <= MAX_DATAGRAM) return reply;
    // Sent as it is, it would vanish (EMSGSIZE); the client gets told instead.
    log.warn({ cookie, command: req.command, bytes: reply.length }, 'NG reply too large for one datagram');
    return encodeReply(cookie, { result: 'error', 'error-reason': 'Reply too large for one datagram' }, encoding);
  }

  close(): void {
    this.cache.close();
    this.socket?.close();
    this.socket = null;
  }
}
