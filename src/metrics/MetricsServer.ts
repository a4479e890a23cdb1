import http from 'node:http';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';

const log = moduleLogger('metrics');

export interface Exposition {
  readonly contentType: string;
  text(): Promise<string>;
}

/** `GET /metrics` over HTTP (listen-http); every other request gets 404. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(private readonly metrics: Exposition) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
    log.info({ address: `${addr.host}:${addr.port}` }, 'HTTP listener ready (GET /metrics)');
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}
