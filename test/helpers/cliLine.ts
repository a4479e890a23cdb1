import net from 'node:net';

/** One CLI line over TCP, as rtpengine-ctl sends it; resolves with everything until the server closes. */
export function cliLine(host: string, port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect({ host, port }, () => s.write(line + '\n'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error(`CLI '${line}' timed out`));
    });
  });
}
