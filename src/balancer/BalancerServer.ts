import dgram from 'node:dgram';
import { listenUdp } from '../ng/listenUdp.js';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { decodeRequest, encodeReply, splitCookie, type NgEncoding } from '../ng/codec.js';
import { CookieCache } from '../ng/CookieCache.js';
import { NgError } from '../ng/errors.js';
import { NgRequest, type NgDict } from '../ng/NgRequest.js';
import { CommandFigures, NO_MEMBER } from './BalancerMetrics.js';
import type { Cluster } from './Cluster.js';

const log = moduleLogger('balancer');

/**
 * A cluster's NG address, as the SIP proxy sees it: the relay's framing and cookie cache, so a
 * retransmission is answered from the cache and never reaches a member twice; a member's reply
 * goes back with the proxy's cookie and its body unchanged.
 */
export class BalancerServer {
  private socket: dgram.Socket | null = null;
  private readonly cache = new CookieCache();
  readonly stats = { requests: 0, duplicates: 0, errors: 0 };
  /** Commands by member and result, and their latency, for metrics. */
  readonly figures = new CommandFigures();

  constructor(private readonly cluster: Cluster) {}

  async listen(addr: ListenAddress): Promise<void> {
    const socket = await listenUdp(addr);
    socket.on('error', (err) => log.error({ err: err.message }, 'NG socket error'));
    socket.on('message', (msg, rinfo) => this.onPacket(msg, rinfo));
    this.socket = socket;
    log.info({ cluster: this.cluster.name, address: `${addr.host}:${addr.port}` }, 'NG listener ready');
  }

  private onPacket(packet: Buffer, rinfo: dgram.RemoteInfo): void {
    const parts = splitCookie(packet);
    if (!parts) {
      // No cookie, nothing to answer to: rtpengine drops these too.
      log.warn({ from: `${rinfo.address}:${rinfo.port}` }, 'NG packet without cookie dropped');
      return;
    }
    const { cookie, body } = parts;
    const t0 = performance.now();
    const { reply, duplicate } = this.cache.run(cookie, () => this.process(cookie, body, t0));
    if (duplicate) this.stats.duplicates++;
    reply.then(
      (bytes) => this.socket?.send(bytes, rinfo.port, rinfo.address),
      (err: Error) => log.error({ cookie, err: err.message }, 'NG reply failed'),
    );
  }

  private async process(cookie: string, body: Buffer, t0: number): Promise<Buffer> {
    this.stats.requests++;
    let encoding: NgEncoding = body[0] === 0x7b ? 'json' : 'bencode';
    let dict: NgDict;
    try {
      ({ dict, encoding } = decodeRequest(body));
    } catch (e) {
      this.stats.errors++;
      this.done(NO_MEMBER, 'error', t0);
      const reason = e instanceof NgError ? e.message : 'Could not decode bencode dictionary';
      return encodeReply(cookie, { result: 'error', 'error-reason': reason }, encoding);
    }
    const req = new NgRequest(dict, '');
    try {
      const out = await this.cluster.handle(req, body);
      const member = out.member?.name ?? NO_MEMBER;
      if ('body' in out) {
        this.done(member, out.result, t0);
        return Buffer.concat([Buffer.from(cookie + ' ', 'latin1'), out.body]);
      }
      if (out.dict['result'] === 'error') this.stats.errors++;
      this.done(member, out.dict['result'], t0);
      return encodeReply(cookie, out.dict, encoding);
    } catch (e) {
      this.stats.errors++;
      this.done(NO_MEMBER, 'error', t0);
      log.error({ cookie, command: req.command, err: (e as Error).stack }, 'internal error in the balancer');
      return encodeReply(cookie, { result: 'error', 'error-reason': `Internal error: ${(e as Error).message}` }, encoding);
    }
  }

  private done(member: string, result: unknown, t0: number): void {
    this.figures.record(member, result, (performance.now() - t0) / 1000);
  }

  close(): void {
    this.cache.close();
    this.socket?.close();
    this.socket = null;
  }
}
