// Runs inside a network namespace (`ip netns exec NS node netnsAgent.mjs`) and does the test's
// socket work there: the test process in the root namespace cannot reach namespaced addresses.
// Plain JavaScript so that it runs without a build. Protocol: one JSON object per line.
//   in:  {id, op: 'open', address, port} -> {re: id, sid, port}
//        {id, op: 'send', sid, to, port, data(base64)} / {op: 'stream', sid, to, port, ssrc, everyMs}
//        {op: 'stop', sid} / {op: 'close', sid} / {id, op: 'tcp', host, port, line} -> {re: id, text}
//   out: {ev: 'rx', sid, address, port, at, data(base64)} for every datagram received.
// Streamed RTP carries its send time (ms, float64) right after the 12-byte header.
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

const sockets = new Map();
const streams = new Map();
let nextSid = 1;

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

function rtp(seq, ssrc) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.writeDoubleBE(Date.now(), 12);
  return b;
}

function stopStream(sid) {
  const t = streams.get(sid);
  if (t) clearInterval(t);
  streams.delete(sid);
}

const ops = {
  open: (m) =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket(m.address?.includes(':') ? { type: 'udp6', ipv6Only: true } : 'udp4');
      const sid = nextSid++;
      s.on('message', (data, r) => out({ ev: 'rx', sid, address: r.address, port: r.port, at: Date.now(), data: data.toString('base64') }));
      s.on('error', () => undefined); // ICMP unreachable while an address moves
      s.once('error', reject);
      s.bind(m.port ?? 0, m.address, () => {
        sockets.set(sid, s);
        resolve({ sid, port: s.address().port });
      });
    }),
  send: (m) => {
    sockets.get(m.sid).send(Buffer.from(m.data, 'base64'), m.port, m.to);
    return {};
  },
  stream: (m) => {
    stopStream(m.sid);
    let seq = m.seq ?? 0;
    const s = sockets.get(m.sid);
    streams.set(m.sid, setInterval(() => s.send(rtp(seq++, m.ssrc), m.port, m.to), m.everyMs));
    return {};
  },
  stop: (m) => {
    stopStream(m.sid);
    return {};
  },
  close: (m) => {
    stopStream(m.sid);
    sockets.get(m.sid)?.close();
    sockets.delete(m.sid);
    return {};
  },
  tcp: (m) =>
    new Promise((resolve, reject) => {
      let text = '';
      const c = net.connect({ host: m.host, port: m.port }, () => c.write(m.line + '\n'));
      c.setEncoding('utf8');
      c.on('data', (d) => (text += d));
      c.on('end', () => resolve({ text }));
      c.on('error', reject);
      c.setTimeout(5000, () => {
        c.destroy();
        reject(new Error(`tcp ${m.host}:${m.port} '${m.line}' timed out`));
      });
    }),
};

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  let m;
  try {
    m = JSON.parse(line);
    const res = await ops[m.op](m);
    if (m.id !== undefined) out({ re: m.id, ...res });
  } catch (e) {
    if (m?.id !== undefined) out({ re: m.id, error: String(e?.message ?? e) });
  }
});
process.stdin.on('end', () => process.exit(0));
