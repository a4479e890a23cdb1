import type { NgDict, NgValue } from '../ng/NgRequest.js';
import { decodeCall } from '../store/CallRecord.js';

const secs = (ms: number): number => Math.floor(ms / 1000);

/**
 * `query` for a call whose owner is dead: what its record says (parties, media, ports,
 * endpoints). Packet counters lived in the dead process and are reported as zero.
 */
export function recordReport(text: string, tags?: string[]): NgDict {
  const rec = decodeCall(text);
  const out: NgDict = Object.create(null) as NgDict;
  const tagDicts: NgDict = Object.create(null) as NgDict;
  for (const p of rec.parties) {
    if (tags && !tags.includes(p.tag)) continue;
    const medias: NgValue[] = p.medias.map((m) => ({
      index: m.index,
      type: m.type,
      protocol: m.protocol,
      streams: m.streams.map((s) => ({
        'local port': s.port,
        'local address': s.address,
        family: s.family === 6 ? 'IPv6' : 'IPv4',
        endpoint: (s.endpoint ? { address: s.endpoint.address, port: s.endpoint.port } : {}) as NgDict,
        stats: { packets: 0, bytes: 0, errors: 0 },
      })),
    }));
    tagDicts[p.tag] = { tag: p.tag, created: secs(p.created), medias };
  }
  out['created'] = secs(rec.created);
  out['last signal'] = secs(rec.lastSignal);
  out['owner'] = rec.owner;
  out['tags'] = tagDicts;
  out['totals'] = { RTP: { packets: 0, bytes: 0, errors: 0 }, RTCP: { packets: 0, bytes: 0, errors: 0 } };
  return out;
}
