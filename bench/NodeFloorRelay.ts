/**
 * The least a Node.js relay can do per packet, for comparison in the same run: a child
 * process that binds one pair of UDP sockets per call on 127.0.0.1 and relays what arrives on
 * one socket of a pair out of the other, to the address that last sent to that other socket
 * (symmetric learning, nothing else: no policy, counters, SRTP or worker threads). Its CPU per
 * packet is Node's own cost of a datagram in and a datagram out.
 *
 * Started by relay-bench (`--relays=node-floor`): it is told the number of calls and answers
 * with the ports, RTP of call i on ports[2i] and ports[2i+1].
 */
import dgram from 'node:dgram';
import { fork, type ChildProcess } from 'node:child_process';

interface Peer {
  socket: dgram.Socket;
  address: string;
  port: number;
}

function bind(): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', lookup: (a, _o, cb) => cb(null, a, 4) });
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

async function serve(calls: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < calls; i++) {
    const a: Peer = { socket: await bind(), address: '', port: 0 };
    const b: Peer = { socket: await bind(), address: '', port: 0 };
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== from.port || rinfo.address !== from.address) {
          from.address = rinfo.address;
          from.port = rinfo.port;
        }
        if (to.port !== 0) to.socket.send(msg, to.port, to.address);
      });
    }
    ports.push(a.socket.address().port, b.socket.address().port);
  }
  return ports;
}

if (process.send !== undefined && process.argv[2] === '--serve') {
  process.once('message', (m: { calls: number }) => void serve(m.calls).then((ports) => process.send!({ ports })));
}

/** The floor relay as relay-bench sees it. */
export class NodeFloorRelay {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: number[],
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(calls: number): Promise<NodeFloorRelay> {
    const child = fork(new URL(import.meta.url).pathname, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ports = await new Promise<number[]>((resolve, reject) => {
      child.once('message', (m: { ports: number[] }) => resolve(m.ports));
      child.once('exit', (code) => reject(new Error(`node-floor relay exited (${code})`)));
      child.send({ calls });
    });
    return new NodeFloorRelay(child, ports);
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}
