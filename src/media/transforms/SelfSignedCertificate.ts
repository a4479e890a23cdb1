import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

/** The key of the relay's DTLS certificate (`dtls-cert-cipher`): ECDSA on P-256, or RSA. */
export type CertKeyType = 'prime256v1' | 'rsa';
/** The hash the certificate is signed with (`dtls-signature`). */
export type CertSignature = 'sha-256' | 'sha-1';

export interface CertificateSettings {
  keyType: CertKeyType;
  /** RSA modulus bits (`dtls-rsa-key-size`). */
  rsaBits: number;
  signature: CertSignature;
  /** The subject's and issuer's common name. */
  commonName: string;
}

const generate = promisify(generateKeyPair);

/** One DER TLV (X.690), definite length. */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const sequence = (...parts: Buffer[]): Buffer => tlv(0x30, ...parts);

function objectId(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * a! + b!];
  for (const v of rest) {
    const groups = [v & 0x7f];
    for (let x = v >>> 7; x > 0; x >>>= 7) groups.unshift((x & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const SIGNATURE_OIDS: Record<CertKeyType, Record<CertSignature, string>> = {
  rsa: { 'sha-256': '1.2.840.113549.1.1.11', 'sha-1': '1.2.840.113549.1.1.5' },
  prime256v1: { 'sha-256': '1.2.840.10045.4.3.2', 'sha-1': '1.2.840.10045.4.1' },
};

const DAY = 86_400_000;

/**
 * A self-signed X.509 v1 certificate as rtpengine makes its own at start-up: a fresh key, a
 * random 64-bit serial, the common name as subject and issuer, valid from a day ago for 30 days.
 */
export async function selfSignedCertificate(s: CertificateSettings, now = new Date()): Promise<{ certPem: string; keyPem: string; der: Buffer }> {
  const keys: { publicKey: KeyObject; privateKey: KeyObject } = s.keyType === 'rsa'
    ? await generate('rsa', { modulusLength: s.rsaBits })
    : await generate('ec', { namedCurve: 'prime256v1' });
  // RSA's algorithm identifier carries an explicit NULL parameter, ECDSA's none (RFC 3279, 5758).
  const algorithm = sequence(objectId(SIGNATURE_OIDS[s.keyType][s.signature]), ...(s.keyType === 'rsa' ? [Buffer.from([0x05, 0x00])] : []));
  const name = sequence(tlv(0x31, sequence(objectId('2.5.4.3'), tlv(0x0c, Buffer.from(s.commonName.slice(0, 63))))));
  const serial = randomBytes(8);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const tbs = sequence(
    tlv(0x02, serial),
    algorithm,
    name,
    sequence(time(new Date(now.getTime() - DAY)), time(new Date(now.getTime() + 30 * DAY))),
    name,
    keys.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign(s.signature === 'sha-1' ? 'sha1' : 'sha256', tbs, keys.privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature));
  const lines = der.toString('base64').match(/.{1,64}/g)!;
  const certPem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
  return { certPem, keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, der };
}
