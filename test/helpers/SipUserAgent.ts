import { randomBytes } from 'node:crypto';
import { hostPortOf, SipMessage, uriOf } from './SipMessage.js';
import { localUdp, type UdpOpener, type UdpPort } from './UdpPort.js';

/** Dialog state (RFC 3261 §12) as one side sees it. */
export interface SipDialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  /** Where in-dialog requests go (the peer's Contact). */
  remoteTarget: string;
  /** Route headers for in-dialog requests, in the order they are sent. */
  routeSet: string[];
  localSeq: number;
}

interface Peer {
  address: string;
  port: number;
}

interface ClientTransaction {
  request: SipMessage;
  resolve: (final: SipMessage) => void;
  timer: NodeJS.Timeout;
}

const token = (n = 8): string => randomBytes(n).toString('hex');
const reasons: Record<number, string> = { 100: 'Trying', 180: 'Ringing', 200: 'OK', 486: 'Busy Here', 488: 'Not Acceptable Here' };

/**
 * A minimal SIP user agent over UDP on loopback, enough to be the UAC or the UAS of one call
 * through a proxy: INVITE/ACK, re-INVITEs and BYE in either direction. No authentication,
 * no retransmission timers (loopback does not lose datagrams); retransmitted requests are
 * answered from the response already sent.
 */
export class SipUserAgent {
  dialog: SipDialog | null = null;
  /** Provisional responses (above 100) to our INVITEs, e.g. a 183 with early-media SDP. */
  readonly provisional: SipMessage[] = [];
  /** Everything received, in order (for failure messages). */
  readonly log: string[] = [];
  private readonly queue: SipMessage[] = [];
  private readonly sources = new WeakMap<SipMessage, Peer>();
  private readonly seen = new Map<string, Buffer | null>();
  private readonly transactions = new Map<string, ClientTransaction>();
  private readonly acks = new Map<string, { bytes: Buffer; to: Peer }>();
  private pendingInvite: { request: SipMessage; proxy: Peer } | null = null;
  private wakers: Array<() => void> = [];

  private constructor(
    private readonly socket: UdpPort,
    readonly user: string,
    readonly host: string,
    readonly port: number,
  ) {
    socket.onMessage((data, from) => this.onDatagram(data, from));
  }

  /** `open`: where the socket lives (this process by default, or a network namespace). */
  static async open(user: string, host = '127.0.0.1', open: UdpOpener = localUdp): Promise<SipUserAgent> {
    const socket = await open(host);
    return new SipUserAgent(socket, user, host, socket.port);
  }

  get uri(): string {
    return `sip:${this.user}@${this.host}:${this.port}`;
  }

  private get via(): string {
    return `SIP/2.0/UDP ${this.host}:${this.port};rport;branch=z9hG4bK${token()}`;
  }

  /** Sends an INVITE for `target` to the proxy at `proxy`, ACKs the final response, keeps the dialog of a 2xx. */
  async invite(target: string, proxy: Peer, sdp: string): Promise<SipMessage> {
    const callId = `${token(6)}@ngrelay.test`;
    const localTag = token(5);
    const req = SipMessage.request('INVITE', target, [
      ['Via', this.via],
      ['Max-Forwards', '70'],
      ['From', `<${this.uri}>;tag=${localTag}`],
      ['To', `<${target}>`],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ['Contact', `<${this.uri}>`],
      ['Content-Type', 'application/sdp'],
    ], sdp);
    this.pendingInvite = { request: req, proxy };
    const final = await this.transact(req, proxy).finally(() => (this.pendingInvite = null));
    if (final.status >= 300) this.sendAck(final, proxy, SipMessage.request('ACK', target, this.sameTransactionHeaders(req, 'ACK', final.header('to'))));
    if (final.status >= 200 && final.status < 300) {
      this.dialog = {
        callId,
        localTag,
        remoteTag: final.toTag ?? '',
        localUri: this.uri,
        remoteUri: target,
        remoteTarget: uriOf(final.header('contact') ?? `<${target}>`),
        routeSet: final.all('record-route').reverse(),
        localSeq: 1,
      };
      this.ack(final);
    }
    return final;
  }

  /** Cancels the INVITE still in progress (RFC 3261 §9.1); resolves with the CANCEL's own final response. */
  cancel(): Promise<SipMessage> {
    const p = this.pendingInvite;
    if (!p) throw new Error(`${this.user}: no INVITE in progress to cancel`);
    return this.transact(SipMessage.request('CANCEL', p.request.requestUri, this.sameTransactionHeaders(p.request, 'CANCEL')), p.proxy);
  }

  /** Sends an in-dialog request (re-INVITE, BYE, INFO with `extra` headers) along the route set; ACKs a 2xx to INVITE. */
  async request(method: string, sdp?: string, extra: Array<[string, string]> = []): Promise<SipMessage> {
    const d = this.dialog;
    if (!d) throw new Error(`${this.user}: no dialog for ${method}`);
    d.localSeq++;
    const headers = [...this.inDialogHeaders(d, `${d.localSeq} ${method}`), ['Contact', `<${this.uri}>`] as [string, string], ...extra];
    if (sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
    const req = SipMessage.request(method, d.remoteTarget, headers, sdp ?? '');
    const final = await this.transact(req, this.nextHop());
    if (method === 'INVITE' && final.status >= 200 && final.status < 300) this.ack(final);
    return final;
  }

  /** Waits for the next request with `method` (retransmissions are not delivered twice). */
  async nextRequest(method: string, timeoutMs = 5000): Promise<SipMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((q) => q.method === method);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.user}: no ${method} within ${timeoutMs} ms; received:\n${this.log.join('\n---\n')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wakers.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Answers a received request; a 2xx to a dialog-creating INVITE sets up the UAS dialog. */
  respond(req: SipMessage, status: number, sdp?: string): void {
    const from = this.sources.get(req);
    if (!from) throw new Error('respond() needs a request this agent received');
    if (req.method === 'INVITE' && !req.toTag && status > 100 && !this.dialog) {
      this.dialog = {
        callId: req.callId,
        localTag: token(5),
        remoteTag: req.fromTag ?? '',
        localUri: uriOf(req.header('to') ?? ''),
        remoteUri: uriOf(req.header('from') ?? ''),
        remoteTarget: uriOf(req.header('contact') ?? ''),
        routeSet: req.all('record-route'),
        localSeq: 0,
      };
    }
    let to = req.header('to') ?? '';
    if (!/;\s*tag=/i.test(to) && status > 100 && this.dialog) to += `;tag=${this.dialog.localTag}`;
    const headers: Array<[string, string]> = [
      ...req.all('via').map((v): [string, string] => ['Via', v]),
      ...(req.method === 'INVITE' ? req.all('record-route').map((r): [string, string] => ['Record-Route', r]) : []),
      ['From', req.header('from') ?? ''],
      ['To', to],
      ['Call-ID', req.callId],
      ['CSeq', req.header('cseq') ?? ''],
      ['Contact', `<${this.uri}>`],
    ];
    if (sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
    const res = new SipMessage(`SIP/2.0 ${status} ${reasons[status] ?? 'Whatever'}`, headers, sdp ?? '');
    const bytes = res.toBuffer();
    if (status >= 200) this.seen.set(this.requestKey(req), bytes);
    this.socket.send(bytes, from.port, from.address);
  }

  /** nextRequest(method), then respond with `status` (and `sdp`); returns the request. */
  async answer(method: string, status: number, sdp?: string): Promise<SipMessage> {
    const req = await this.nextRequest(method);
    this.respond(req, status, sdp);
    return req;
  }

  close(): void {
    for (const t of this.transactions.values()) clearTimeout(t.timer);
    this.socket.close();
  }

  private nextHop(): Peer {
    const d = this.dialog!;
    const { host, port } = hostPortOf(uriOf(d.routeSet[0] ?? `<${d.remoteTarget}>`));
    return { address: host, port };
  }

  private transact(req: SipMessage, to: Peer, timeoutMs = 5000): Promise<SipMessage> {
    return new Promise((resolve, reject) => {
      const key = `${req.branch} ${req.cseq.method}`;
      const timer = setTimeout(() => {
        this.transactions.delete(key);
        reject(new Error(`${this.user}: no final response to ${req.method} within ${timeoutMs} ms; received:\n${this.log.join('\n---\n')}`));
      }, timeoutMs);
      this.transactions.set(key, { request: req, resolve, timer });
      this.socket.send(req.toBuffer(), to.port, to.address);
    });
  }

  /** ACK for a 2xx: a new transaction along the dialog's route set (RFC 3261 §13.2.2.4). */
  private ack(final: SipMessage): void {
    const d = this.dialog!;
    this.sendAck(final, this.nextHop(), SipMessage.request('ACK', d.remoteTarget, this.inDialogHeaders(d, `${final.cseq.seq} ACK`)));
  }

  /** Sends an ACK and keeps it for a retransmitted final response. */
  private sendAck(final: SipMessage, to: Peer, ack: SipMessage): void {
    const bytes = ack.toBuffer();
    this.acks.set(`${final.callId} ${final.cseq.seq}`, { bytes, to });
    this.socket.send(bytes, to.port, to.address);
  }

  /** CANCEL, and ACK for a non-2xx, belong to the INVITE's transaction: its Via branch, CSeq number (§9.1, §17.1.1.3). */
  private sameTransactionHeaders(invite: SipMessage, method: string, to = invite.header('to')): Array<[string, string]> {
    return [
      ['Via', invite.all('via')[0]!],
      ['Max-Forwards', '70'],
      ['From', invite.header('from') ?? ''],
      ['To', to ?? ''],
      ['Call-ID', invite.callId],
      ['CSeq', `${invite.cseq.seq} ${method}`],
    ];
  }

  /** Headers of a request inside the dialog, each with a new branch (RFC 3261 §12.2.1.1). */
  private inDialogHeaders(d: SipDialog, cseq: string): Array<[string, string]> {
    return [
      ['Via', this.via],
      ['Max-Forwards', '70'],
      ...d.routeSet.map((r): [string, string] => ['Route', r]),
      ['From', `<${d.localUri}>;tag=${d.localTag}`],
      ['To', `<${d.remoteUri}>;tag=${d.remoteTag}`],
      ['Call-ID', d.callId],
      ['CSeq', cseq],
    ];
  }

  private requestKey(req: SipMessage): string {
    return `${req.branch} ${req.method} ${req.callId} ${req.cseq.seq}`;
  }

  private onDatagram(data: Buffer, from: Peer): void {
    let msg: SipMessage;
    try {
      msg = SipMessage.parse(data);
    } catch (e) {
      this.log.push(`unparsable: ${(e as Error).message}`);
      return;
    }
    this.log.push(msg.toString());
    if (msg.isResponse) return this.onResponse(msg);
    const key = this.requestKey(msg);
    if (this.seen.has(key)) {
      const sent = this.seen.get(key);
      if (sent) this.socket.send(sent, from.port, from.address);
      return;
    }
    this.seen.set(key, null);
    this.sources.set(msg, from);
    this.queue.push(msg);
    for (const w of this.wakers.splice(0)) w();
  }

  private onResponse(res: SipMessage): void {
    if (res.status < 200) {
      if (res.status > 100 && res.cseq.method === 'INVITE') this.provisional.push(res);
      return;
    }
    const key = `${res.branch} ${res.cseq.method}`;
    const tx = this.transactions.get(key);
    if (tx) {
      clearTimeout(tx.timer);
      this.transactions.delete(key);
      tx.resolve(res);
      return;
    }
    // A retransmitted final response to INVITE: the ACK got lost, send it again.
    const ack = this.acks.get(`${res.callId} ${res.cseq.seq}`);
    if (ack && res.cseq.method === 'INVITE') this.socket.send(ack.bytes, ack.to.port, ack.to.address);
  }
}
