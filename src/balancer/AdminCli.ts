import net from 'node:net';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { wireText } from '../ng/wireText.js';
import { runAdminLine, type AdminContext } from './AdminCommands.js';

const log = moduleLogger('balancer-cli');
const MAX_LINE = 4096;
const IDLE_MS = 5000;
const LINGER_MS = 2000;
const MAX_CONNECTIONS = 16;

/** The admin CLI over TCP, as the relay's: one line in, the answer, then close. */
export class AdminCli {
  private server: net.Server | null = null;

  constructor(private readonly ctx: AdminContext) {}

  async listen(addr: ListenAddress): Promise<void> {
    const server = net.createServer((sock) => this.onConnection(sock));
    server.maxConnections = MAX_CONNECTIONS;
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
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    const finish = (line: Buffer): void => {
      if (done) return;
      done = true;
      sock.removeListener('data', onData);
      sock.on('data', () => undefined);
      const text = wireText(line).replace(/\r$/, '');
      log.info({ line: text.slice(0, 200) }, 'CLI command');
      let reply: string;
      try {
        reply = runAdminLine(this.ctx, text);
      } catch (e) {
        reply = `ERROR: ${(e as Error).message}\n`;
      }
      sock.end(reply);
      setTimeout(() => sock.destroy(), LINGER_MS).unref();
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl));
        finish(Buffer.concat(chunks));
        return;
      }
      size += chunk.length;
      if (size > MAX_LINE) {
        log.warn({ from: sock.remoteAddress, bytes: size }, 'CLI line too long, connection dropped');
        sock.destroy();
        return;
      }
      chunks.push(chunk);
    };
    sock.on('data', onData);
    sock.on('end', () => {
      if (!done && size > 0) finish(Buffer.concat(chunks));
    });
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }
}
