import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';

const log = moduleLogger('metrics');

export interface Exposition {
  readonly contentType: string;
  text(): Promise<string>;
}

/** More routes on the same listener (NG over HTTP and WebSocket). */
export interface HttpRoutes {
  /** Answers the request if it is one of its routes; false otherwise. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** A connection asking to upgrade (WebSocket). */
  upgrade(req: http.IncomingMessage, socket: Duplex): void;
  close(): void;
}

/** `GET /metrics` over HTTP (listen-http), plus `routes`; every other request gets 404. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly metrics: Exposition,
    private readonly routes: HttpRoutes | null = null,
  ) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      if (this.routes) this.routes.upgrade(req, socket);
      else socket.destroy();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.routes?.handle(req, res)) return;
    const path = (req.url ?? '').split('?', 1)[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    try {
      const body = await this.metrics.text();
      res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(body);
    } catch (e) {
      log.error({ err: (e as Error).stack }, 'metrics collection failed');
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
    }
  }

  async listen(addr: ListenAddress): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(addr.port, addr.host, () => {
        this.server.removeListener('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => log.error({ err: err.message }, 'HTTP listener error'));
    log.info({ address: `${addr.host}:${addr.port}` }, 'HTTP listener ready (GET /metrics, NG over POST /ng and WebSocket)');
  }

  close(): void {
    this.routes?.close();
    this.server.close();
    this.server.closeAllConnections();
  }
}
