import net from 'node:net';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { runCliLine, type CliContext } from './CliCommands.js';

const log = moduleLogger('cli');
const MAX_LINE = 1024;

/** rtpengine's CLI transport: one line in over TCP, the answer, then close. */
export class CliServer {
  private server: net.Server | null = null;

  constructor(private readonly ctx: CliContext) {}

  async listen(addr: ListenAddress): Promise<void> {
    const server = net.createServer((sock) => this.onConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error({ err: err.message }, 'CLI listener error'));
    this.server = server;
    log.info({ address: `${addr.host}:${addr.port}` }, 'CLI listener ready');
  }

  private onConnection(sock: net.Socket): void {
    let buf = '';
    let done = false;
    sock.setEncoding('utf8');
    sock.setTimeout(5000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    const finish = (line: string): void => {
      if (done) return;
      done = true;
      log.debug({ line }, 'CLI command');
      runCliLine(this.ctx, line)
        .catch((e: Error) => `Error: ${e.message}\n`)
        .then((text) => sock.end(text));
    };
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl).replace(/\r$/, ''));
      else if (buf.length > MAX_LINE) sock.destroy();
    });
    // Clients that half-close without a newline still get their answer.
    sock.on('end', () => {
      if (!done && buf.trim() !== '') finish(buf);
    });
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }
}
