import dgram from 'node:dgram';
import { moduleLogger } from '../log.js';

const log = moduleLogger('cluster');

/** First retransmission. */
const RETRY_MS = 250;
/** What an owner may add to its reply's bounded wait for the store (processing, a busy host). */
const MARGIN_MS = 500;

interface Pending {
  done: (reply: Buffer | null) => void;
  promise: Promise<Buffer | null>;
}

/**
 * Sends NG datagrams to other nodes and returns their replies, matched by cookie. The
 * original cookie is kept: the owner's cookie cache then answers a retransmission, or the
 * same offer arriving through two nodes, with the very same bytes.
 */
export class Forwarder {
  private readonly socket: dgram.Socket;
  private readonly pending = new Map<string, Pending>();
  forwarded = 0;
  timeouts = 0;

  /** Longer than the owner may take (`ownerWaitMs`: its bounded wait for its write), no more: a dead owner must not hold a reply long. */
  private readonly giveUpMs: number;

  constructor(ipv6: boolean, ownerWaitMs: number) {
    this.giveUpMs = ownerWaitMs + MARGIN_MS;
    this.socket = dgram.createSocket(ipv6 ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => {
      const sp = msg.indexOf(0x20);
      if (sp <= 0) return;
      const p = this.pending.get(msg.subarray(0, sp).toString('latin1'));
      p?.done(msg);
    });
    this.socket.on('error', (e) => log.warn({ err: e.message }, 'forwarding socket error'));
  }

  async bind(host: string): Promise<void> {
    await new Promise<void>((resolve) => this.socket.bind(0, host, () => resolve()));
  }

  /** The owner's whole reply datagram, or null when it did not answer in time. */
  send(cookie: string, datagram: Buffer, host: string, port: number): Promise<Buffer | null> {
    const key = cookie;
    const known = this.pending.get(key);
    if (known) return known.promise;
    this.forwarded++;
    let done!: (r: Buffer | null) => void;
    const promise = new Promise<Buffer | null>((resolve) => (done = resolve));
    const retry = setTimeout(() => this.socket.send(datagram, port, host), RETRY_MS);
    const giveUp = setTimeout(() => {
      this.timeouts++;
      finish(null);
    }, this.giveUpMs);
    const finish = (r: Buffer | null): void => {
      clearTimeout(retry);
      clearTimeout(giveUp);
      if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
      done(r);
    };
    this.pending.set(key, { done: finish, promise });
    this.socket.send(datagram, port, host);
    return promise;
  }

  close(): void {
    for (const p of this.pending.values()) p.done(null);
    this.socket.close();
  }
}
