/* SRTP and SRTCP packet crypto (RFC 3711, RFC 7714) for the relay's SrtpSession: N-API, one
 * instance per thread that loads it, OpenSSL from Node itself (its symbols are resolved in the
 * running node binary: nothing is linked, nothing new is installed).
 *
 * A context holds one direction's session keys for SRTP or for SRTCP: the AES context keyed
 * once, and HMAC-SHA1's inner and outer SHA-1 states after the key's pad blocks. A packet is one
 * call: it is encrypted and tagged, or verified and decrypted, in place in the caller's buffer,
 * with no allocation. Indices, rollover and replay stay with the caller. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init/Update/Final: the only OpenSSL API that lets an
                                     * HMAC state be copied without allocating */
#include <node_api.h>
#include "napi_args.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MODE_CTR = 0, MODE_F8 = 1, MODE_NULL = 2, MODE_GCM = 3 };
enum { RTCP_HEADER = 8, SRTCP_INDEX = 4, GCM_TAG = 16, MAX_PACKET = 65536 };
#define E_FLAG 0x80000000u

typedef struct {
  int mode;
  /* Authentication tag length in bytes (GCM: 16). */
  int tag;
  /* CTR: AES-CTR under the session key (a packet sets the IV only). GCM: AES-GCM likewise.
   * F8: AES-ECB under the session key. */
  EVP_CIPHER_CTX *aes;
  /* F8: AES-ECB under k_e XOR m, which turns an IV into IV'. */
  EVP_CIPHER_CTX *mask;
  uint8_t salt[14];
  SHA_CTX inner, outer;
  /* GCM decrypts here first so that a packet that fails is left as it came (this thread's). */
  uint8_t *scratch;
} ctx_t;

static void free_ctx(ctx_t *c) {
  EVP_CIPHER_CTX_free(c->aes);
  EVP_CIPHER_CTX_free(c->mask);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void) env; (void) hint;
  free_ctx(data);
}

static void finalize_scratch(napi_env env, void *data, void *hint) {
  (void) env; (void) hint;
  free(data);
}

static napi_value boolean(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static const EVP_CIPHER *aes(int mode, size_t key) {
  if (mode == MODE_GCM) return key == 32 ? EVP_aes_256_gcm() : key == 16 ? EVP_aes_128_gcm() : NULL;
  if (mode == MODE_F8) return key == 16 ? EVP_aes_128_ecb() : key == 32 ? EVP_aes_256_ecb() : NULL;
  return key == 16 ? EVP_aes_128_ctr() : key == 24 ? EVP_aes_192_ctr() : key == 32 ? EVP_aes_256_ctr() : NULL;
}

/* ---- HMAC-SHA1 (RFC 2104) from the precomputed pad states ---- */

/* MAC of p[0, len) followed by the big-endian 32-bit ROC when `roc` is set. */
static void hmac(const ctx_t *c, const uint8_t *p, size_t len, const uint8_t *roc, uint8_t out[SHA_DIGEST_LENGTH]) {
  SHA_CTX s = c->inner;
  SHA1_Update(&s, p, len);
  if (roc) SHA1_Update(&s, roc, 4);
  SHA1_Final(out, &s);
  s = c->outer;
  SHA1_Update(&s, out, SHA_DIGEST_LENGTH);
  SHA1_Final(out, &s);
}

static void sign(const ctx_t *c, uint8_t *p, size_t len, const uint8_t *roc) {
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac(c, p, len, roc, mac);
  memcpy(p + len, mac, c->tag);
}

static int verify(const ctx_t *c, const uint8_t *p, size_t len, const uint8_t *roc) {
  uint8_t mac[SHA_DIGEST_LENGTH];
  hmac(c, p, len, roc, mac);
  return CRYPTO_memcmp(mac, p + len, c->tag) == 0;
}

/* ---- Encryption ---- */

/* AES-CM (RFC 3711 4.1.1): IV = (salt XOR SSRC << 64 XOR index << 16), the low 16 bits counting blocks. */
static int ctr(ctx_t *c, uint8_t *p, size_t from, size_t to, uint32_t ssrc, uint64_t index) {
  uint8_t iv[16];
  memcpy(iv, c->salt, 14);
  iv[14] = iv[15] = 0;
  for (int i = 0; i < 4; i++) iv[4 + i] ^= ssrc >> (24 - 8 * i);
  for (int i = 0; i < 6; i++) iv[8 + i] ^= index >> (40 - 8 * i);
  int n;
  if (to <= from) return 1;
  return EVP_EncryptInit_ex(c->aes, NULL, NULL, NULL, iv) == 1 && EVP_EncryptUpdate(c->aes, p + from, &n, p + from, (int) (to - from)) == 1;
}

/* AES-f8 (RFC 3711 4.1.2): IV' = E(k_e XOR m, IV), S(j) = E(k_e, IV' XOR j XOR S(j-1)), S(-1) = 0. */
static int f8(ctx_t *c, uint8_t *p, size_t from, size_t to, const uint8_t iv[16]) {
  uint8_t ivp[16], s[16] = { 0 }, b[16];
  int n;
  if (EVP_EncryptUpdate(c->mask, ivp, &n, iv, 16) != 1) return 0;
  for (uint32_t j = 0; from < to; j++) {
    for (int i = 0; i < 16; i++) b[i] = ivp[i] ^ s[i];
    put32(b + 12, be32(b + 12) ^ j);
    if (EVP_EncryptUpdate(c->aes, s, &n, b, 16) != 1) return 0;
    size_t k = to - from < 16 ? to - from : 16;
    for (size_t i = 0; i < k; i++) p[from + i] ^= s[i];
    from += k;
  }
  return 1;
}

/* AES-f8 of an RTP payload: IV = 0x00 | M,PT | SEQ | TS | SSRC | ROC (RFC 3711 4.1.2.2). */
static int f8_rtp(ctx_t *c, uint8_t *p, size_t from, size_t to, const uint8_t roc[4]) {
  uint8_t iv[16] = { 0 };
  memcpy(iv + 1, p + 1, 11);
  memcpy(iv + 12, roc, 4);
  return f8(c, p, from, to, iv);
}

/* AES-f8 of an RTCP compound: IV = 0 (32 bits) | E,index | V,P,RC,PT,length,SSRC (RFC 3711 4.1.2.3). */
static int f8_rtcp(ctx_t *c, uint8_t *p, size_t to, uint32_t word) {
  uint8_t iv[16] = { 0 };
  put32(iv + 4, word);
  memcpy(iv + 8, p, RTCP_HEADER);
  return f8(c, p, RTCP_HEADER, to, iv);
}

/* RFC 7714 8.1: 00 00 | SSRC | ROC | SEQ, XOR salt. */
static void gcm_rtp_iv(const ctx_t *c, uint8_t iv[12], uint32_t ssrc, uint32_t roc, uint32_t seq) {
  iv[0] = iv[1] = 0;
  put32(iv + 2, ssrc);
  put32(iv + 6, roc);
  iv[10] = seq >> 8;
  iv[11] = seq;
  for (int i = 0; i < 12; i++) iv[i] ^= c->salt[i];
}

/* RFC 7714 9.1: 00 00 | SSRC | 00 00 | 0 | index, XOR salt. */
static void gcm_rtcp_iv(const ctx_t *c, uint8_t iv[12], uint32_t ssrc, uint32_t index) {
  iv[0] = iv[1] = iv[6] = iv[7] = 0;
  put32(iv + 2, ssrc);
  put32(iv + 8, index);
  for (int i = 0; i < 12; i++) iv[i] ^= c->salt[i];
}

/* Encrypts p[from, to) with AAD a1 | a2 and writes the tag at p[to]. */
static int gcm_seal(ctx_t *c, uint8_t *p, size_t from, size_t to, const uint8_t iv[12], const uint8_t *a1, size_t n1, const uint8_t *a2, size_t n2) {
  int n;
  if (EVP_CipherInit_ex(c->aes, NULL, NULL, NULL, iv, 1) != 1) return 0;
  if (EVP_CipherUpdate(c->aes, NULL, &n, a1, (int) n1) != 1) return 0;
  if (n2 && EVP_CipherUpdate(c->aes, NULL, &n, a2, (int) n2) != 1) return 0;
  if (to > from && EVP_CipherUpdate(c->aes, p + from, &n, p + from, (int) (to - from)) != 1) return 0;
  if (EVP_CipherFinal_ex(c->aes, p + to, &n) != 1) return 0;
  return EVP_CIPHER_CTX_ctrl(c->aes, EVP_CTRL_GCM_GET_TAG, GCM_TAG, p + to) == 1;
}

/* Verifies the tag at p[to] over AAD a1 | a2 and p[from, to); decrypts in place when `decrypt`. */
static int gcm_open(ctx_t *c, uint8_t *p, size_t from, size_t to, const uint8_t iv[12], const uint8_t *a1, size_t n1, const uint8_t *a2, size_t n2, int decrypt) {
  int n;
  size_t len = to - from;
  if (EVP_CipherInit_ex(c->aes, NULL, NULL, NULL, iv, 0) != 1) return 0;
  if (EVP_CipherUpdate(c->aes, NULL, &n, a1, (int) n1) != 1) return 0;
  if (n2 && EVP_CipherUpdate(c->aes, NULL, &n, a2, (int) n2) != 1) return 0;
  if (len && EVP_CipherUpdate(c->aes, c->scratch, &n, p + from, (int) len) != 1) return 0;
  if (EVP_CIPHER_CTX_ctrl(c->aes, EVP_CTRL_GCM_SET_TAG, GCM_TAG, p + to) != 1) return 0;
  if (EVP_CipherFinal_ex(c->aes, c->scratch + len, &n) != 1) return 0;
  if (decrypt) memcpy(p + from, c->scratch, len);
  return 1;
}

/* ---- The calls ---- */

/* context(mode, encryptionKey, salt, authKey, tagLength) -> context. Salt: 14 bytes (GCM: 12; f8: any, at most the key). */
static napi_value context(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  size_t kn, sn, an;
  int mode = (int) arg_u32(env, a[0]);
  uint8_t *key = arg_array(env, a[1], napi_uint8_array, &kn);
  uint8_t *salt = arg_array(env, a[2], napi_uint8_array, &sn);
  uint8_t *auth = arg_array(env, a[3], napi_uint8_array, &an);
  int tag = (int) arg_u32(env, a[4]);
  const EVP_CIPHER *cipher = mode == MODE_NULL ? NULL : aes(mode, kn);
  if (argc < 5 || mode < MODE_CTR || mode > MODE_GCM || (mode != MODE_NULL && !cipher) || !salt || sn > 14 ||
      (mode == MODE_GCM ? tag != GCM_TAG || sn != 12 : !auth || tag <= 0 || tag > SHA_DIGEST_LENGTH || (mode != MODE_F8 && sn != 14) || (mode == MODE_F8 && sn > kn))) {
    napi_throw_range_error(env, NULL, "bad SRTP context parameters");
    return NULL;
  }
  ctx_t *c = calloc(1, sizeof *c);
  c->mode = mode;
  c->tag = tag;
  memcpy(c->salt, salt, sn);
  int ok = 1;
  if (cipher) {
    c->aes = EVP_CIPHER_CTX_new();
    ok = c->aes && EVP_EncryptInit_ex(c->aes, cipher, NULL, key, NULL) == 1;
    if (ok && mode == MODE_F8) EVP_CIPHER_CTX_set_padding(c->aes, 0);
  }
  if (ok && mode == MODE_F8) {
    /* m = k_s || 0x55..55, as long as the key (RFC 3711 4.1.2.1). */
    uint8_t m[32];
    memset(m, 0x55, kn);
    memcpy(m, salt, sn);
    for (size_t i = 0; i < kn; i++) m[i] ^= key[i];
    c->mask = EVP_CIPHER_CTX_new();
    ok = c->mask && EVP_EncryptInit_ex(c->mask, cipher, NULL, m, NULL) == 1;
    if (ok) EVP_CIPHER_CTX_set_padding(c->mask, 0);
    OPENSSL_cleanse(m, sizeof m);
  }
  if (ok && mode != MODE_GCM) {
    uint8_t k[64] = { 0 }, pad[64];
    if (an > 64) SHA1(auth, an, k);
    else memcpy(k, auth, an);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    SHA1_Init(&c->inner);
    SHA1_Update(&c->inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    SHA1_Init(&c->outer);
    SHA1_Update(&c->outer, pad, 64);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  if (ok && mode == MODE_GCM) ok = napi_get_instance_data(env, (void **) &c->scratch) == napi_ok && c->scratch;
  if (!ok) {
    free_ctx(c);
    napi_throw_error(env, NULL, "OpenSSL refused the SRTP session key");
    return NULL;
  }
  napi_value r;
  napi_create_external(env, c, finalize, NULL, &r);
  return r;
}

/* protectRtp(context, src, dst, headerLength, length, roc): dst[0, length) = src's packet
 * (src may be dst), encrypted, with the tag at dst[length]. False when dst is too short. */
static napi_value protect_rtp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  ctx_t *c = arg_external(env, a[0]);
  size_t sn, dn;
  uint8_t *src = arg_array(env, a[1], napi_uint8_array, &sn);
  uint8_t *p = arg_array(env, a[2], napi_uint8_array, &dn);
  size_t h = arg_u32(env, a[3]), len = arg_u32(env, a[4]);
  uint32_t roc = arg_u32(env, a[5]);
  if (!c || !src || !p || h < 12 || h > len || len > sn || len + c->tag > dn || len > MAX_PACKET) return boolean(env, 0);
  if (src != p) memmove(p, src, len);
  uint32_t ssrc = be32(p + 8);
  uint32_t seq = (uint32_t) p[2] << 8 | p[3];
  uint8_t r[4];
  put32(r, roc);
  int ok = 1;
  switch (c->mode) {
  case MODE_GCM: {
    uint8_t iv[12];
    gcm_rtp_iv(c, iv, ssrc, roc, seq);
    return boolean(env, gcm_seal(c, p, h, len, iv, p, h, NULL, 0));
  }
  case MODE_CTR: ok = ctr(c, p, h, len, ssrc, (uint64_t) roc << 16 | seq); break;
  case MODE_F8: ok = f8_rtp(c, p, h, len, r); break;
  }
  if (ok) sign(c, p, len, r);
  return boolean(env, ok);
}

/* unprotectRtp(context, packet, headerLength, end, roc, decrypt): whether the tag at packet[end]
 * authenticates it; decrypts packet[headerLength, end) in place when it does and `decrypt`. */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  ctx_t *c = arg_external(env, a[0]);
  size_t n;
  uint8_t *p = arg_array(env, a[1], napi_uint8_array, &n);
  size_t h = arg_u32(env, a[2]), end = arg_u32(env, a[3]);
  uint32_t roc = arg_u32(env, a[4]);
  bool decrypt = false;
  napi_get_value_bool(env, a[5], &decrypt);
  if (!c || !p || h < 12 || h > end || end + c->tag > n || end > MAX_PACKET) return boolean(env, 0);
  uint32_t ssrc = be32(p + 8);
  uint32_t seq = (uint32_t) p[2] << 8 | p[3];
  uint8_t r[4];
  put32(r, roc);
  if (c->mode == MODE_GCM) {
    uint8_t iv[12];
    gcm_rtp_iv(c, iv, ssrc, roc, seq);
    return boolean(env, gcm_open(c, p, h, end, iv, p, h, NULL, 0, decrypt));
  }
  if (!verify(c, p, end, r)) return boolean(env, 0);
  if (!decrypt) return boolean(env, 1);
  if (c->mode == MODE_CTR) return boolean(env, ctr(c, p, h, end, ssrc, (uint64_t) roc << 16 | seq));
  if (c->mode == MODE_F8) return boolean(env, f8_rtp(c, p, h, end, r));
  return boolean(env, 1);
}

/* protectRtcp(context, src, dst, length, word): dst = src's compound packet (src may be dst),
 * encrypted unless the mode is NULL, with E|index (`word`) and the tag appended:
 * AES-CM, f8, NULL: packet | word | tag; GCM: packet | tag | word. */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  ctx_t *c = arg_external(env, a[0]);
  size_t sn, dn;
  uint8_t *src = arg_array(env, a[1], napi_uint8_array, &sn);
  uint8_t *p = arg_array(env, a[2], napi_uint8_array, &dn);
  size_t len = arg_u32(env, a[3]);
  uint32_t word = arg_u32(env, a[4]);
  if (!c || !src || !p || len < RTCP_HEADER || len > sn || len + SRTCP_INDEX + c->tag > dn || len > MAX_PACKET) return boolean(env, 0);
  if (src != p) memmove(p, src, len);
  uint32_t ssrc = be32(p + 4);
  uint32_t index = word & ~E_FLAG;
  if (c->mode == MODE_GCM) {
    uint8_t iv[12], w[4];
    put32(w, word);
    gcm_rtcp_iv(c, iv, ssrc, index);
    if (!gcm_seal(c, p, RTCP_HEADER, len, iv, p, RTCP_HEADER, w, 4)) return boolean(env, 0);
    memcpy(p + len + GCM_TAG, w, 4);
    return boolean(env, 1);
  }
  put32(p + len, word);
  int ok = 1;
  if (c->mode == MODE_CTR && (word & E_FLAG)) ok = ctr(c, p, RTCP_HEADER, len, ssrc, index);
  else if (c->mode == MODE_F8 && (word & E_FLAG)) ok = f8_rtcp(c, p, len, word);
  if (ok) sign(c, p, len + SRTCP_INDEX, NULL);
  return boolean(env, ok);
}

/* unprotectRtcp(context, packet, length, decrypt): whether the compound packet[0, length)
 * (with its E|index and tag) authenticates; decrypts it in place when it does, `decrypt` is set
 * and its E flag is. */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  ctx_t *c = arg_external(env, a[0]);
  size_t n;
  uint8_t *p = arg_array(env, a[1], napi_uint8_array, &n);
  size_t len = arg_u32(env, a[2]);
  bool decrypt = false;
  napi_get_value_bool(env, a[3], &decrypt);
  if (!c || !p || len > n || len < RTCP_HEADER + SRTCP_INDEX + (size_t) c->tag || len > MAX_PACKET + SRTCP_INDEX + GCM_TAG) return boolean(env, 0);
  uint32_t ssrc = be32(p + 4);
  uint8_t *w = p + len - SRTCP_INDEX;
  uint32_t word = be32(c->mode == MODE_GCM ? w : p + len - c->tag - SRTCP_INDEX);
  uint32_t index = word & ~E_FLAG;
  if (c->mode == MODE_GCM) {
    uint8_t iv[12];
    gcm_rtcp_iv(c, iv, ssrc, index);
    return boolean(env, gcm_open(c, p, RTCP_HEADER, len - SRTCP_INDEX - GCM_TAG, iv, p, RTCP_HEADER, w, 4, decrypt));
  }
  size_t tag_at = len - c->tag, end = tag_at - SRTCP_INDEX;
  if (!verify(c, p, tag_at, NULL)) return boolean(env, 0);
  if (!decrypt || !(word & E_FLAG)) return boolean(env, 1);
  if (c->mode == MODE_CTR) return boolean(env, ctr(c, p, RTCP_HEADER, end, ssrc, index));
  if (c->mode == MODE_F8) return boolean(env, f8_rtcp(c, p, end, word));
  return boolean(env, 1);
}

NAPI_MODULE_INIT() {
  uint8_t *scratch = malloc(MAX_PACKET + GCM_TAG);
  if (!scratch || napi_set_instance_data(env, scratch, finalize_scratch, NULL) != napi_ok) {
    free(scratch);
    napi_throw_error(env, NULL, "SRTP addon: out of memory");
    return NULL;
  }
  napi_property_descriptor p[] = {
    { "context", NULL, context, NULL, NULL, NULL, napi_enumerable, NULL },
    { "protectRtp", NULL, protect_rtp, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unprotectRtp", NULL, unprotect_rtp, NULL, NULL, NULL, napi_enumerable, NULL },
    { "protectRtcp", NULL, protect_rtcp, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unprotectRtcp", NULL, unprotect_rtcp, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof p / sizeof p[0], p);
  return exports;
}
