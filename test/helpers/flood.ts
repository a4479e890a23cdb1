import { spawn } from 'node:child_process';

/** The sender runs in its own process so that flooding does not stall the test's own sockets. */
const FLOODER = `
const dgram = require('node:dgram');
const [port, address, count, size] = process.argv.slice(1).map((v, i) => (i === 1 ? v : Number(v)));
const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
const pkt = Buffer.alloc(size);
pkt[0] = 0x80;
pkt.writeUInt32BE(0xf100d, 8);
let sent = 0;
const start = Date.now();
function batch() {
  for (let i = 0; i < 500 && sent < count; i++, sent++) {
    pkt.writeUInt16BE(sent & 0xffff, 2);
    s.send(pkt, port, address);
  }
  if (sent < count) setImmediate(batch);
  else s.close(() => { process.stdout.write(JSON.stringify({ sent, ms: Date.now() - start })); });
}
s.bind(0, address, batch);
`;

/** Sends `count` RTP-sized datagrams (SSRC 0xf100d) to address:port as fast as a child process can. */
export function flood(port: number, address: string, count: number, size = 172): Promise<{ sent: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', FLOODER, String(port), address, String(count), String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out) as { sent: number; ms: number });
      else reject(new Error(`flooder exited with ${code}: ${err}`));
    });
  });
}
