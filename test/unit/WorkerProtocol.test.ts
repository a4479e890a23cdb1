import { describe, expect, it } from 'vitest';
import { eachFromWorker, eachToWorker, putFromWorker, putToWorker, type Batch, type FromWorker, type ToWorker } from '../../src/media/workers/protocol.js';

const toWorker: ToWorker[] = [
  { op: 'sdp', id: 7, address: '10.0.0.1', port: 4000, now: 1796194378123 },
  { op: 'forward', id: 7, rtp: 9, rtcp: null },
  { op: 'adopt', ids: [11, 12], slots: [3, 4], address: '::1', family: 6, port: 30000 },
  { op: 'stock', req: 5, address: '127.0.0.1', family: 4, port: 30002 },
  { op: 'policy', id: 7, policy: { learning: 'delayed', strictSource: true, mediaHandover: false, asymmetric: false } },
  { op: 'sync', req: 6 },
  { op: 'close', id: 7 },
  { op: 'restore', id: 8, sdp: { address: '10.0.0.2', port: 5000 }, endpoint: null },
  { op: 'icePair', id: 8, pair: { local: '10.0.0.9', address: '10.0.0.2', port: 5000, nominated: false, ufrag: 'AbCd1234' } },
  { op: 'unstock', req: 9, address: '127.0.0.1', port: 30002 },
];

const fromWorker: FromWorker[] = [
  { ev: 'done', req: 5 },
  { ev: 'done', req: 6, error: 'bind failed' },
  { ev: 'state', id: 7, state: { remoteAddress: '10.0.0.1', remotePort: 4000, sdpAddress: '10.0.0.1', sdpPort: 4000, confirmed: true, ice: null }, learned: false },
  { ev: 'state', id: 8, state: { remoteAddress: '10.0.0.1', remotePort: 4000, sdpAddress: '10.0.0.1', sdpPort: 4000, confirmed: true, ice: { local: '10.0.0.9', address: '10.0.0.1', port: 4000, nominated: true, ufrag: 'AbCd1234' } }, learned: true },
  { ev: 'activity', id: 7 },
  { ev: 'packet', id: 7, data: new Uint8Array([1, 2, 3]), src: { address: '10.0.0.1', port: 4000 }, dst: { address: '127.0.0.1', port: 30000 } },
];

describe('media worker messages', () => {
  it('come out of a flat batch as they went in, in order', () => {
    const batch: Batch = [];
    for (const m of toWorker) putToWorker(batch, m);
    const read: ToWorker[] = [];
    eachToWorker(structuredClone(batch), (m) => read.push(m));
    expect(read).toEqual(toWorker);
  });

  it('come back from a worker as they were posted, in order', () => {
    const batch: Batch = [];
    for (const m of fromWorker) putFromWorker(batch, m);
    const read: FromWorker[] = [];
    eachFromWorker(structuredClone(batch), (m) => read.push(m));
    expect(read).toEqual(fromWorker);
  });
});
