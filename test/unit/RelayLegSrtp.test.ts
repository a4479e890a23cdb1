import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { SrtpSession as WeriftSrtp, RtpPacket } from 'werift-rtp';
import { RelayLeg } from '../../src/media/userspace/RelayLeg.js';
import { bindUdp } from '../../src/media/userspace/udp.js';
import type { SrtpKeying } from '../../src/media/MediaPlane.js';

const KEY_A = Buffer.alloc(16, 1);
const SALT_A = Buffer.alloc(14, 2);
const KEY_R = Buffer.alloc(16, 3);
const SALT_R = Buffer.alloc(14, 4);
const keying = (key: Buffer, salt: Buffer): SrtpKeying => ({ suite: 'AES_CM_128_HMAC_SHA1_80', key, salt });

function rtp(seq: number): Buffer {
  const p = Buffer.alloc(172);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(0x1234, 8);
  for (let i = 12; i < p.length; i++) p[i] = (seq + i) & 0xff;
  return p;
}

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function client(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  open.push(s);
  return s;
}

async function leg(): Promise<RelayLeg> {
  const sock = await bindUdp('127.0.0.1', 4, 0);
  const l = new RelayLeg(sock, '127.0.0.1', sock.address().port, 4);
  l.setPolicy({ learning: 'off', strictSource: false, mediaHandover: false, asymmetric: false });
  open.push(l);
  return l;
}

describe('RelayLeg with SRTP on one side', () => {
  it('decrypts what the SRTP party sends and encrypts what it receives; bad packets are counted', async () => {
    const plainParty = await client();
    const srtpParty = await client();
    const a = await leg(); // faces the plain party
    const b = await leg(); // faces the SRTP party
    a.setSdpEndpoint('127.0.0.1', plainParty.address().port, Date.now());
    b.setSdpEndpoint('127.0.0.1', srtpParty.address().port, Date.now());
    a.forwardTo(b, null);
    b.forwardTo(a, null);
    // b: the SRTP party encrypts with KEY_A; we encrypt towards it with KEY_R.
    b.setCrypto({ recv: keying(KEY_A, SALT_A), send: keying(KEY_R, SALT_R) });
    expect(b.transformed).toBe(true);
    expect(a.transformed).toBe(false);
    const theirs = new WeriftSrtp({ keys: { localMasterKey: KEY_A, localMasterSalt: SALT_A, remoteMasterKey: KEY_R, remoteMasterSalt: SALT_R }, profile: 1 });

    const atSrtp = once(srtpParty, 'message');
    plainParty.send(rtp(7), a.localPort, '127.0.0.1');
    const [wire] = (await atSrtp) as [Buffer];
    expect(wire.length).toBe(172 + 10);
    expect(theirs.decrypt(wire)).toEqual(rtp(7));

    const atPlain = once(plainParty, 'message');
    const pkt = RtpPacket.deSerialize(rtp(9));
    srtpParty.send(theirs.encrypt(pkt.payload, pkt.header), b.localPort, '127.0.0.1');
    const [plain] = (await atPlain) as [Buffer];
    expect(plain).toEqual(rtp(9));

    // Not authentic: dropped and counted against the receiving leg.
    const before = b.errors;
    const forged = Buffer.concat([rtp(10), Buffer.alloc(10)]);
    srtpParty.send(forged, b.localPort, '127.0.0.1');
    const atPlain2 = once(plainParty, 'message');
    srtpParty.send(theirs.encrypt(RtpPacket.deSerialize(rtp(11)).payload, RtpPacket.deSerialize(rtp(11)).header), b.localPort, '127.0.0.1');
    expect(((await atPlain2) as [Buffer])[0]).toEqual(rtp(11));
    expect(b.errors).toBe(before + 1);
    expect(b.srtpErrors).toBe(1);

    // The same keys again keep the session (no reset); null makes the leg plain again.
    const t = b.srtp;
    b.setCrypto({ recv: keying(KEY_A, SALT_A), send: keying(KEY_R, SALT_R) });
    expect(b.srtp).toBe(t);
    b.setCrypto(null);
    expect(b.transformed).toBe(false);
  });
});
