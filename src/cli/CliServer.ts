import net from 'node:net';
import type { ListenAddress } from '../config/Endpoint.js';
import { moduleLogger } from '../log.js';
import { wireText } from '../ng/wireText.js';

const log = moduleLogger('cli');
const IDLE_MS = 5000;
/** How long a client may take to read the answer and close. */
const LINGER_MS = 2000;
const discard = (): void => undefined;

export interface LineServerLimits {
  /** Bytes of one line; rtpengine takes long lines (call-ids), this bounds what a connection may make us hold. */
  maxLine: number;
  /**
   * Concurrent connections. At the cap a new connection evicts the oldest one that has not
   * sent its line yet (so idle clients cannot lock an operator out); it is refused only
   * when every connection is running a command.
   */
  maxConnections: number;
}

/** Answers one CLI line; a thrown error becomes `Error: ...`. */
export type LineRunner = (line: string) => Promise<string> | string;

/** rtpengine's CLI transport: one line in over TCP, the answer, then close (the relay's and the balancer's). */
export class CliServer {
  private server: net.Server | null = null;
  /** Open connections, oldest first; true once its line is read (its command runs or its answer goes out). */
  private readonly open = new Map<net.Socket, boolean>();

  constructor(
    private readonly run: LineRunner,
    private readonly limits: LineServerLimits = { maxLine: 64 * 1024, maxConnections: 64 },
  ) {}

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

  /** Room for one more connection: the oldest idle one goes; false when none is idle. */
  private makeRoom(): boolean {
    if (this.open.size < this.limits.maxConnections) return true;
    for (const [sock, busy] of this.open) {
      if (busy) continue;
      log.warn({ from: sock.remoteAddress, open: this.open.size }, 'CLI connections at their cap; the oldest idle one is dropped');
      this.open.delete(sock);
      sock.destroy();
      return true;
    }
    return false;
  }

  private onConnection(sock: net.Socket): void {
    if (!this.makeRoom()) {
      sock.destroy();
      return;
    }
    this.open.set(sock, false);
    sock.once('close', () => this.open.delete(sock));
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // Idle or slow clients (not sending their line, not reading the answer) are dropped.
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    const finish = (line: Buffer): void => {
      if (done) return;
      done = true;
      if (this.open.has(sock)) this.open.set(sock, true);
      // The line has arrived: a command that takes long (terminate all of thousands of calls)
      // still gets its answer; the linger below bounds a client that does not read it.
      sock.setTimeout(0);
      // One line per connection: whatever follows it is discarded, never buffered.
      sock.removeListener('data', onData);
      sock.on('data', discard);
      const text = wireText(line).replace(/\r$/, '');
      log.debug({ line: text.slice(0, 200) }, 'CLI command');
      Promise.resolve()
        .then(() => this.run(text))
        .catch((e: Error) => `Error: ${e.message}\n`)
        // Closing at once would reset the connection over unread input and lose the answer on
        // the client's side: the client gets a moment to read it and close, then it is cut.
        .then((reply) => {
          sock.end(reply);
          setTimeout(() => sock.destroy(), LINGER_MS).unref();
        });
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl));
        finish(Buffer.concat(chunks));
        return;
      }
      size += chunk.length;
      if (size > this.limits.maxLine) {
        log.warn({ from: sock.remoteAddress, bytes: size }, 'CLI line too long, connection dropped');
        sock.destroy();
        return;
      }
      chunks.push(chunk);
    };
    sock.on('data', onData);
    // Clients that half-close without a newline still get their answer.
    sock.on('end', () => {
      if (!done && size > 0) finish(Buffer.concat(chunks));
    });
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }
}
