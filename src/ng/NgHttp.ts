import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { moduleLogger } from '../log.js';
import type { NgService } from './NgService.js';
import { acceptKey, WebSocketConnection } from './WebSocket.js';

const log = moduleLogger('ng');

/** The WebSocket subprotocol of NG with cookies (rtpengine 10.5's only NG subprotocol). */
export const NG_SUBPROTOCOL = 'ng.rtpengine.com';
/** Largest NG message over HTTP or WebSocket: what a UDP datagram can carry. */
export const MAX_HTTP_NG = 65_536;
/** Requests of one WebSocket in work at once; beyond, the relay stops reading it. */
const MAX_IN_FLIGHT = 16;

/**
 * NG on the HTTP listener (`listen-http`), as rtpengine 10.5 serves it: WebSocket connections
 * with subprotocol `ng.rtpengine.com` (each message `COOKIE SP DICT`, each reply one binary
 * message), `POST /ng` with content type `application/x-rtpengine-ng`, and `GET /ping`.
 */
export class NgHttp {
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly service: NgService) {}

  /** Answers the request if it is NG's; false leaves it to the listener's other routes. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method === 'GET' && path === '/ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('pong\n');
      return true;
    }
    if (req.method !== 'POST' || path !== '/ng') return false;
    if ((req.headers['content-type'] ?? '').toLowerCase() !== 'application/x-rtpengine-ng') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return true;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_HTTP_NG) {
        res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' }).end('too large\n');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (bytes > MAX_HTTP_NG) return;
      const reply = this.service.reply(Buffer.concat(chunks), `${req.socket.remoteAddress}:${req.socket.remotePort}`);
      // rtpengine's answer to a message it could not take (no cookie).
      if (!reply) return void res.writeHead(600, { 'Content-Type': 'text/plain' }).end('error\n');
      reply.then(
        (body) => res.writeHead(200, { 'Content-Type': 'application/x-rtpengine-ng' }).end(body),
        () => res.writeHead(600, { 'Content-Type': 'text/plain' }).end('error\n'),
      );
    });
    return true;
  }

  /** A WebSocket handshake: taken for `ng.rtpengine.com`, refused otherwise. */
  upgrade(req: http.IncomingMessage, socket: Duplex): void {
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const key = req.headers['sec-websocket-key'];
    if ((req.headers['upgrade'] ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13' || !protocols.includes(NG_SUBPROTOCOL)) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: ${NG_SUBPROTOCOL}\r\n\r\n`,
    );
    const source = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let inFlight = 0;
    const ws: WebSocketConnection = new WebSocketConnection(socket, MAX_HTTP_NG, (message) => {
      const reply = this.service.reply(message, source);
      if (!reply) return;
      if (++inFlight >= MAX_IN_FLIGHT) socket.pause();
      reply.then(
        (bytes) => ws.sendBinary(bytes),
        (err: Error) => log.error({ err: err.message }, 'NG reply failed'),
      ).finally(() => {
        if (--inFlight < MAX_IN_FLIGHT && socket.isPaused()) socket.resume();
      });
    });
    log.debug({ from: source }, 'NG WebSocket connection');
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
