import net from 'node:net';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { BENCODE_INCOMPLETE, BENCODE_INVALID, bencodeExtent } from './bencode.js';
import { encodeReply } from './codec.js';
import { NgErrorText } from './errors.js';
import type { NgService } from './NgService.js';

const log = moduleLogger('ng');

/** Bytes a connection may hold without a complete message: one request as large as a datagram. */
export const MAX_TCP_PENDING = 65_536;
/** Requests of one connection in work at once; beyond, the relay stops reading it. */
const MAX_IN_FLIGHT = 16;
const MAX_CONNECTIONS = 256;

/**
 * NG over TCP (`listen-tcp-ng`), framed as rtpengine frames it: `COOKIE SP BENCODE-DICT`
 * back to back with no length, the end of each found by reading the bencode; the reply is
 * `COOKIE SP DICT` on the same connection. Bencode only (JSON cannot be framed this way): a
 * message that is not bencode is answered with rtpengine's error and the connection closed,
 * as is one that outgrows MAX_TCP_PENDING (rtpengine closes at 1024 bytes).
 */
export class NgTcpServer {
  private server: net.Server | null = null;
  private readonly connections = new Set<net.Socket>();

  constructor(private readonly service: NgService) {}

  async listen(addr: ListenAddress): Promise<void> {
    const server = net.createServer((sock) => this.connection(sock));
    server.maxConnections = MAX_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error({ err: err.message }, 'NG TCP listener error'));
    this.server = server;
    log.info({ address: `${addr.host}:${addr.port}` }, 'NG TCP listener ready');
  }

  private connection(sock: net.Socket): void {
    const source = `${sock.remoteAddress}:${sock.remotePort}`;
    this.connections.add(sock);
    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.connections.delete(sock));
    const refuse = (cookie: string, reason: string): void => {
      log.warn({ from: source, reason }, 'NG TCP stream not framed as bencode: closed');
      sock.end(encodeReply(cookie, { result: 'error', 'error-reason': reason }, 'bencode'));
      pending = Buffer.alloc(0);
    };
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length > 0 && !sock.destroyed && sock.writable) {
        // Line ends between messages (a client typing them) are no part of a cookie.
        let start = 0;
        while (start < pending.length && (pending[start] === 0x0a || pending[start] === 0x0d)) start++;
        pending = pending.subarray(start);
        const sp = pending.indexOf(0x20);
        const end = sp < 0 ? BENCODE_INCOMPLETE : bencodeExtent(pending, sp + 1);
        if (end === BENCODE_INVALID) {
          const cookie = pending.toString('latin1', 0, sp);
          return refuse(cookie, pending[sp + 1] === 0x64 /* d */ ? NgErrorText.badBencode : NgErrorText.badFormat);
        }
        if (end === BENCODE_INCOMPLETE) {
          if (pending.length > MAX_TCP_PENDING) {
            log.warn({ from: source, bytes: pending.length }, 'NG TCP message too long: connection closed');
            sock.destroy();
          }
          return;
        }
        // A copy: the rest of the chunk must not be held by a request in work.
        const message = Buffer.from(pending.subarray(0, end));
        pending = pending.subarray(end);
        const reply = this.service.reply(message, source);
        if (!reply) continue;
        if (++inFlight >= MAX_IN_FLIGHT) sock.pause();
        reply.then(
          (bytes) => {
            if (!sock.destroyed) sock.write(bytes);
          },
          (err: Error) => log.error({ err: err.message }, 'NG reply failed'),
        ).finally(() => {
          if (--inFlight < MAX_IN_FLIGHT && sock.isPaused()) sock.resume();
        });
      }
    });
  }

  close(): void {
    this.server?.close();
    for (const s of this.connections) s.destroy();
    this.connections.clear();
    this.server = null;
  }
}
