// SPDX-License-Identifier: GPL-2.0
/*
 * TPM 2.0 commands with authorization sessions, shared by the module,
 * KUnit, userspace tests, fuzzers and libattestio.
 *
 * A command is built as header | handles | authorization area | parameters.
 * The authorization area has a fixed size per session kind, so it is
 * reserved before the parameters are written and filled in by
 * attestio_tpm2_cmd_finish(), once cpHash over the parameters is known.
 *
 * HMAC sessions are unbound and unsalted: sessionKey is the Empty Buffer,
 * so the HMAC key is the entity's authValue alone (Part 1, 19.6.8 and
 * 19.6.17).  The authValue itself never appears in a command.
 */
#include <crypto/sha2.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "tpm2_sess.h"

#define ATTESTIO_PW_AUTH_LEN	9	/* handle, nonce "", attrs, hmac "" */
#define ATTESTIO_HMAC_AUTH_LEN	(4 + 2 + ATTESTIO_TPM2_NONCE_LEN + 1 + 2 + \
				 SHA256_DIGEST_SIZE)
#define ATTESTIO_SHA256_BLOCK	64

void attestio_hmac_sha256(const u8 *key, size_t klen, const u8 *const *part,
			  const size_t *plen, unsigned int n, u8 *out)
{
	u8 pad[ATTESTIO_SHA256_BLOCK], inner[SHA256_DIGEST_SIZE];
	struct sha256_state st;
	unsigned int i;

	/* keys longer than a block are hashed first (RFC 2104) */
	if (klen > ATTESTIO_SHA256_BLOCK) {
		sha256(key, klen, inner);
		key = inner;
		klen = SHA256_DIGEST_SIZE;
	}
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < klen; i++)
		pad[i] ^= key[i];
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	for (i = 0; i < n; i++)
		sha256_update(&st, part[i], plen[i]);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	sha256_final(&st, inner);
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	sha256_update(&st, inner, sizeof(inner));
	sha256_final(&st, out);
	memset(pad, 0, sizeof(pad));
	memset(inner, 0, sizeof(inner));
}

static size_t attestio_auth_size(const struct attestio_tpm2_auth *a)
{
	return a->sess ? ATTESTIO_HMAC_AUTH_LEN : ATTESTIO_PW_AUTH_LEN;
}

static u8 *attestio_cmd_room(struct attestio_tpm2_cmd *c, size_t n)
{
	u8 *p;

	if (c->overflow || n > c->cap - c->len) {
		c->overflow = true;
		return NULL;
	}
	p = c->buf + c->len;
	c->len += n;
	return p;
}

void attestio_tpm2_cmd_init(struct attestio_tpm2_cmd *c, u8 *buf, size_t cap,
			    u32 cc, const struct attestio_tpm2_auth *auths,
			    unsigned int nauth)
{
	memset(c, 0, sizeof(*c));
	c->buf = buf;
	c->cap = cap;
	c->cc = cc;
	c->auths = auths;
	c->nauth = nauth;
	if (nauth > ATTESTIO_TPM2_MAX_AUTHS || cap < ATTESTIO_TPM2_HDR_LEN) {
		c->overflow = true;
		return;
	}
	c->len = ATTESTIO_TPM2_HDR_LEN;
}

/* @name NULL: the handle's own 4 bytes are its name (PCR, hierarchy). */
void attestio_tpm2_cmd_handle(struct attestio_tpm2_cmd *c, u32 handle,
			      const u8 *name, u16 name_len)
{
	unsigned int i = c->nhandles;
	u8 *p;

	if (c->param_off || i >= ATTESTIO_TPM2_MAX_HANDLES) {
		c->overflow = true;
		return;
	}
	p = attestio_cmd_room(c, 4);
	if (!p)
		return;
	attestio_put_be32(p, handle);
	attestio_put_be32(c->handle_name[i], handle);
	c->names[i] = name ? name : c->handle_name[i];
	c->name_len[i] = name ? name_len : 4;
	c->nhandles++;
}

/* The first parameter: reserve the authorization area before it. */
static void attestio_cmd_params(struct attestio_tpm2_cmd *c)
{
	size_t n = 0;
	unsigned int i;

	if (c->param_off)
		return;
	if (c->nauth) {
		n = 4;
		for (i = 0; i < c->nauth; i++)
			n += attestio_auth_size(&c->auths[i]);
	}
	c->auth_off = c->len;
	if (!attestio_cmd_room(c, n))
		return;
	c->param_off = c->len;
}

void attestio_tpm2_cmd_bytes(struct attestio_tpm2_cmd *c, const void *p,
			     size_t n)
{
	u8 *d;

	attestio_cmd_params(c);
	d = attestio_cmd_room(c, n);
	if (d && n)
		memcpy(d, p, n);
}

void attestio_tpm2_cmd_u8(struct attestio_tpm2_cmd *c, u8 v)
{
	attestio_tpm2_cmd_bytes(c, &v, 1);
}

void attestio_tpm2_cmd_u16(struct attestio_tpm2_cmd *c, u16 v)
{
	u8 b[2];

	attestio_put_be16(b, v);
	attestio_tpm2_cmd_bytes(c, b, 2);
}

void attestio_tpm2_cmd_u32(struct attestio_tpm2_cmd *c, u32 v)
{
	u8 b[4];

	attestio_put_be32(b, v);
	attestio_tpm2_cmd_bytes(c, b, 4);
}

void attestio_tpm2_cmd_2b(struct attestio_tpm2_cmd *c, const void *p, u16 n)
{
	attestio_tpm2_cmd_u16(c, n);
	attestio_tpm2_cmd_bytes(c, p, n);
}

/* cpHash = SHA-256(commandCode || name of each handle || parameters) */
static void attestio_cp_hash(const struct attestio_tpm2_cmd *c, u8 *out)
{
	struct sha256_state st;
	unsigned int i;
	u8 cc[4];

	attestio_put_be32(cc, c->cc);
	sha256_init(&st);
	sha256_update(&st, cc, 4);
	for (i = 0; i < c->nhandles; i++)
		sha256_update(&st, c->names[i], c->name_len[i]);
	sha256_update(&st, c->buf + c->param_off, c->len - c->param_off);
	sha256_final(&st, out);
}

/*
 * The HMAC of a session: HMAC(authValue, pHash || nonceNewer || nonceOlder
 * || attrs), with nonceNewer/Older the caller's/TPM's nonce for a command
 * and the other way round for a response.  Policy sessions without
 * PolicyAuthValue have an empty key.
 */
static void attestio_sess_hmac(const struct attestio_tpm2_auth *a,
			       const u8 *phash, const u8 *newer, u16 nlen,
			       const u8 *older, u16 olen, u8 attrs, u8 *out)
{
	const u8 *part[4] = { phash, newer, older, &attrs };
	size_t plen[4] = { SHA256_DIGEST_SIZE, nlen, olen, 1 };
	bool key = !a->sess->policy;

	attestio_hmac_sha256(key ? a->auth : NULL, key ? a->auth_len : 0,
			     part, plen, 4, out);
}

/* Fill in the header and authorization area; the command length or -errno. */
int attestio_tpm2_cmd_finish(struct attestio_tpm2_cmd *c)
{
	u8 cp[SHA256_DIGEST_SIZE];
	const struct attestio_tpm2_auth *a;
	unsigned int i;
	u8 *p;

	attestio_cmd_params(c);
	if (c->overflow || c->len > 0x7fffffffU)
		return -ENOSPC;
	attestio_put_be16(c->buf, c->nauth ? ATTESTIO_TPM2_ST_SESSIONS :
					     ATTESTIO_TPM2_ST_NO_SESSIONS);
	attestio_put_be32(c->buf + 2, c->len);
	attestio_put_be32(c->buf + 6, c->cc);
	if (!c->nauth)
		return c->len;
	attestio_cp_hash(c, cp);
	p = c->buf + c->auth_off;
	attestio_put_be32(p, c->param_off - c->auth_off - 4);
	p += 4;
	for (i = 0; i < c->nauth; i++) {
		a = &c->auths[i];
		if (!a->sess) {
			attestio_put_be32(p, ATTESTIO_TPM2_RS_PW);
			memset(p + 4, 0, 5);	/* nonce "", attrs 0, hmac "" */
			p += ATTESTIO_PW_AUTH_LEN;
			continue;
		}
		attestio_put_be32(p, a->sess->handle);
		attestio_put_be16(p + 4, ATTESTIO_TPM2_NONCE_LEN);
		memcpy(p + 6, a->sess->nonce_caller, ATTESTIO_TPM2_NONCE_LEN);
		p += 6 + ATTESTIO_TPM2_NONCE_LEN;
		*p++ = a->sess->attrs;
		attestio_put_be16(p, SHA256_DIGEST_SIZE);
		attestio_sess_hmac(a, cp, a->sess->nonce_caller,
				   ATTESTIO_TPM2_NONCE_LEN, a->sess->nonce_tpm,
				   a->sess->nonce_tpm_len, a->sess->attrs,
				   p + 2);
		p += 2 + SHA256_DIGEST_SIZE;
	}
	return c->len;
}

/* Constant-time comparison: a forged response learns nothing from timing. */
static bool attestio_eq(const u8 *a, const u8 *b, size_t n)
{
	u8 d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return !d;
}

/* One TPMS_AUTH_RESPONSE; an HMAC session's HMAC must verify. */
static int attestio_rsp_auth(struct attestio_rd *r,
			     const struct attestio_tpm2_auth *a,
			     const u8 *rp)
{
	u8 want[SHA256_DIGEST_SIZE];
	const u8 *nonce, *hmac;
	u16 nlen, hlen;
	u8 attrs;

	if (!attestio_r2b(r, 0, ATTESTIO_TPM2_NONCE_LEN, &nonce, &nlen) ||
	    !attestio_r8(r, &attrs) ||
	    !attestio_r2b(r, 0, SHA256_DIGEST_SIZE, &hmac, &hlen))
		return -EBADMSG;
	if (attrs & 0x18)	/* reserved TPMA_SESSION bits */
		return -EBADMSG;
	if (!a->sess)
		return nlen || hlen ? -EBADMSG : 0;
	if (nlen < 16)
		return -EBADMSG;
	if (!a->sess->policy) {
		attestio_sess_hmac(a, rp, nonce, nlen, a->sess->nonce_caller,
				   ATTESTIO_TPM2_NONCE_LEN, attrs, want);
		if (hlen != SHA256_DIGEST_SIZE || !attestio_eq(hmac, want, hlen))
			return -EBADMSG;
	}
	memcpy(a->sess->nonce_tpm, nonce, nlen);
	a->sess->nonce_tpm_len = nlen;
	return 0;
}

/*
 * Split the response in @buf (@len bytes received) to a command @cc with
 * @nhandles handles in its response and the authorizations @auths.  The
 * HMAC of every HMAC session is verified and its TPM nonce rolled.
 * Returns 0, -EREMOTEIO for a well-formed TPM error (@out->rc), -EMSGSIZE
 * if fewer bytes than announced were received, or -EBADMSG.
 */
int attestio_tpm2_rsp_parse(const u8 *buf, size_t len, u32 cc,
			    unsigned int nhandles,
			    const struct attestio_tpm2_auth *auths,
			    unsigned int nauth, struct attestio_tpm2_rsp *out)
{
	struct attestio_rd r;
	u8 rp[SHA256_DIGEST_SIZE], hdr[8];
	struct sha256_state st;
	unsigned int i;
	u32 size, psize;
	u16 tag;
	int ret;

	memset(out, 0, sizeof(*out));
	if (nhandles > ATTESTIO_TPM2_MAX_HANDLES ||
	    nauth > ATTESTIO_TPM2_MAX_AUTHS)
		return -EINVAL;
	if (len < ATTESTIO_TPM2_HDR_LEN)
		return -EMSGSIZE;
	tag = attestio_get_be16(buf);
	size = attestio_get_be32(buf + 2);
	out->rc = attestio_get_be32(buf + 6);
	if (size < ATTESTIO_TPM2_HDR_LEN)
		return -EBADMSG;
	if (size > len)
		return -EMSGSIZE;
	if (size != len)
		return -EBADMSG;
	if (out->rc) {
		if (tag != ATTESTIO_TPM2_ST_NO_SESSIONS ||
		    len != ATTESTIO_TPM2_HDR_LEN)
			return -EBADMSG;
		return -EREMOTEIO;
	}
	if (tag != (nauth ? ATTESTIO_TPM2_ST_SESSIONS :
			    ATTESTIO_TPM2_ST_NO_SESSIONS))
		return -EBADMSG;
	r.p = buf + ATTESTIO_TPM2_HDR_LEN;
	r.left = len - ATTESTIO_TPM2_HDR_LEN;
	for (i = 0; i < nhandles; i++)
		if (!attestio_r32(&r, &out->handles[i]))
			return -EBADMSG;
	if (!nauth) {
		out->params = r.p;
		out->plen = r.left;
		return 0;
	}
	if (!attestio_r32(&r, &psize))
		return -EBADMSG;
	out->params = attestio_take(&r, psize);
	if (!out->params)
		return -EBADMSG;
	out->plen = psize;

	/* rpHash = SHA-256(responseCode (0) || commandCode || parameters) */
	attestio_put_be32(hdr, 0);
	attestio_put_be32(hdr + 4, cc);
	sha256_init(&st);
	sha256_update(&st, hdr, sizeof(hdr));
	sha256_update(&st, out->params, out->plen);
	sha256_final(&st, rp);
	for (i = 0; i < nauth; i++) {
		ret = attestio_rsp_auth(&r, &auths[i], rp);
		if (ret)
			return ret;
	}
	return r.left ? -EBADMSG : 0;
}

/*
 * TPMT_PUBLIC of an ECC P-256 object with an empty authPolicy and empty
 * unique: a signing key (ECDSA-SHA256, no symmetric) or a storage key
 * (AES-128-CFB, no scheme).
 */
static int attestio_ecc_template(u8 *buf, size_t cap, u32 attrs, bool sign)
{
	u16 v[16];
	unsigned int n = 0, i;

	v[n++] = ATTESTIO_TPM2_ALG_ECC;
	v[n++] = ATTESTIO_TPM2_ALG_SHA256;
	v[n++] = attrs >> 16;
	v[n++] = attrs;
	v[n++] = 0;				/* authPolicy "" */
	if (sign) {
		v[n++] = ATTESTIO_TPM2_ALG_NULL;	/* symmetric */
		v[n++] = ATTESTIO_TPM2_ALG_ECDSA;
		v[n++] = ATTESTIO_TPM2_ALG_SHA256;
	} else {
		v[n++] = ATTESTIO_TPM2_ALG_AES;
		v[n++] = 128;
		v[n++] = ATTESTIO_TPM2_ALG_CFB;
		v[n++] = ATTESTIO_TPM2_ALG_NULL;	/* scheme */
	}
	v[n++] = ATTESTIO_TPM2_ECC_NIST_P256;
	v[n++] = ATTESTIO_TPM2_ALG_NULL;	/* kdf */
	v[n++] = 0;				/* unique.x "" */
	v[n++] = 0;				/* unique.y "" */
	if (cap < 2 * n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		attestio_put_be16(buf + 2 * i, v[i]);
	return 2 * n;
}

int attestio_tpm2_ksk_template(u8 *buf, size_t cap)
{
	return attestio_ecc_template(buf, cap, ATTESTIO_KSK_ATTRS, true);
}

int attestio_tpm2_parent_template(u8 *buf, size_t cap)
{
	return attestio_ecc_template(buf, cap, ATTESTIO_PARENT_ATTRS, false);
}

void attestio_tpm2_name(const u8 *pub, size_t len, u8 *name)
{
	attestio_put_be16(name, ATTESTIO_TPM2_ALG_SHA256);
	sha256(pub, len, name + 2);
}

int attestio_tpm2_public_parse(const u8 *pub, size_t len, u32 *attrs,
			       const u8 **area, u16 *area_len)
{
	struct attestio_rd r = { pub, len }, a;
	u16 type, name_alg;

	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_PUBLIC_MAX, area, area_len) ||
	    r.left)
		return -EBADMSG;
	a.p = *area;
	a.left = *area_len;
	if (!attestio_r16(&a, &type) || type != ATTESTIO_TPM2_ALG_ECC ||
	    !attestio_r16(&a, &name_alg) ||
	    name_alg != ATTESTIO_TPM2_ALG_SHA256 || !attestio_r32(&a, attrs))
		return -EBADMSG;
	return 0;
}

int attestio_tpm2_start_session_parse(const struct attestio_tpm2_rsp *rsp,
				      struct attestio_tpm2_sess *sess)
{
	struct attestio_rd r = { rsp->params, rsp->plen };
	const u8 *nonce;
	u16 n;

	if (!attestio_r2b(&r, 16, ATTESTIO_TPM2_NONCE_LEN, &nonce, &n) ||
	    r.left)
		return -EBADMSG;
	/* HMAC (0x02) or policy (0x03) session handles */
	if ((rsp->handles[0] >> 24) != (sess->policy ? 0x03 : 0x02))
		return -EBADMSG;
	sess->handle = rsp->handles[0];
	memcpy(sess->nonce_tpm, nonce, n);
	sess->nonce_tpm_len = n;
	return 0;
}

/* TPM2_Create: outPrivate, outPublic, creationData, creationHash, ticket */
int attestio_tpm2_create_parse(const struct attestio_tpm2_rsp *rsp,
			       struct attestio_tpm2_created *out)
{
	struct attestio_rd r = { rsp->params, rsp->plen };
	u16 tag;
	u32 hier;

	out->priv = r.p;
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_PRIVATE_MAX, NULL, NULL))
		return -EBADMSG;
	out->priv_len = r.p - out->priv;
	out->pub = r.p;
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_PUBLIC_MAX, NULL, NULL))
		return -EBADMSG;
	out->pub_len = r.p - out->pub;
	if (!attestio_r2b(&r, 0, 0xffff, NULL, NULL) ||
	    !attestio_r2b(&r, 0, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL) ||
	    !attestio_r16(&r, &tag) || !attestio_r32(&r, &hier) ||
	    !attestio_r2b(&r, 0, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL) ||
	    r.left)
		return -EBADMSG;
	return 0;
}

/* TPM2_Load: the parameters are the object's name. */
int attestio_tpm2_name_parse(const struct attestio_tpm2_rsp *rsp,
			     const u8 **name, u16 *name_len)
{
	struct attestio_rd r = { rsp->params, rsp->plen };

	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX, name, name_len) ||
	    r.left)
		return -EBADMSG;
	return 0;
}

/* TPM2_ReadPublic: outPublic, name, qualifiedName */
int attestio_tpm2_read_public_parse(const struct attestio_tpm2_rsp *rsp,
				    const u8 **pub, u16 *pub_len,
				    const u8 **name, u16 *name_len)
{
	struct attestio_rd r = { rsp->params, rsp->plen };

	*pub = r.p;
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_PUBLIC_MAX, NULL, NULL))
		return -EBADMSG;
	*pub_len = r.p - *pub;
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX, name, name_len) ||
	    !attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX, NULL, NULL) ||
	    r.left)
		return -EBADMSG;
	return 0;
}

/* policyDigest' = SHA-256(policyDigest || TPM_CC_PolicyCommandCode || code) */
static void attestio_policy_cc(u32 code, u8 *out)
{
	u8 b[SHA256_DIGEST_SIZE + 8] = { 0 };

	attestio_put_be32(b + SHA256_DIGEST_SIZE,
			  ATTESTIO_TPM2_CC_POLICY_COMMAND_CODE);
	attestio_put_be32(b + SHA256_DIGEST_SIZE + 4, code);
	sha256(b, sizeof(b), out);
}

void attestio_tpm2_ak_policy(u8 branches[2][32], u8 *policy)
{
	u8 b[SHA256_DIGEST_SIZE + 4 + 2 * SHA256_DIGEST_SIZE] = { 0 };

	attestio_policy_cc(ATTESTIO_TPM2_CC_CERTIFY, branches[0]);
	attestio_policy_cc(ATTESTIO_TPM2_CC_ACTIVATE_CREDENTIAL, branches[1]);
	/* SHA-256(0^32 || TPM_CC_PolicyOR || digest1 || digest2) */
	attestio_put_be32(b + SHA256_DIGEST_SIZE, ATTESTIO_TPM2_CC_POLICY_OR);
	memcpy(b + SHA256_DIGEST_SIZE + 4, branches[0], SHA256_DIGEST_SIZE);
	memcpy(b + 2 * SHA256_DIGEST_SIZE + 4, branches[1], SHA256_DIGEST_SIZE);
	sha256(b, sizeof(b), policy);
}

void attestio_tpm2_kdfa(const u8 *key, size_t klen, const char *label,
			const u8 *u, size_t ulen, const u8 *v, size_t vlen,
			u8 *out, size_t outlen)
{
	u8 ctr[4], bits[4], block[SHA256_DIGEST_SIZE];
	const u8 *part[5] = { ctr, (const u8 *)label, u, v, bits };
	size_t plen[5] = { 4, strlen(label) + 1, ulen, vlen, 4 };
	u32 i;
	size_t n;

	attestio_put_be32(bits, outlen * 8);
	for (i = 1; outlen; i++) {
		attestio_put_be32(ctr, i);
		attestio_hmac_sha256(key, klen, part, plen, 5, block);
		n = outlen < sizeof(block) ? outlen : sizeof(block);
		memcpy(out, block, n);
		out += n;
		outlen -= n;
	}
	memset(block, 0, sizeof(block));
}

void attestio_tpm2_kdfe(const u8 *z, size_t zlen, const char *label,
			const u8 *u, size_t ulen, const u8 *v, size_t vlen,
			u8 *out)
{
	struct sha256_state st;
	u8 ctr[4];

	attestio_put_be32(ctr, 1);
	sha256_init(&st);
	sha256_update(&st, ctr, 4);
	sha256_update(&st, z, zlen);
	sha256_update(&st, (const u8 *)label, strlen(label) + 1);
	sha256_update(&st, u, ulen);
	sha256_update(&st, v, vlen);
	sha256_final(&st, out);
}

int attestio_tpm2_ecc_point(const u8 *area, size_t len, const u8 **x,
			    const u8 **y)
{
	struct attestio_rd r = { area, len };
	u16 type, v, curve;
	u16 n;

	if (!attestio_r16(&r, &type) || type != ATTESTIO_TPM2_ALG_ECC ||
	    !attestio_take(&r, 2 + 4) ||
	    !attestio_r2b(&r, 0, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL))
		return -EBADMSG;
	/* symmetric: NULL, or algorithm, keyBits, mode */
	if (!attestio_r16(&r, &v) ||
	    (v != ATTESTIO_TPM2_ALG_NULL && !attestio_take(&r, 4)))
		return -EBADMSG;
	/* scheme: NULL, or ECDSA with its hash */
	if (!attestio_r16(&r, &v) ||
	    (v != ATTESTIO_TPM2_ALG_NULL &&
	     (v != ATTESTIO_TPM2_ALG_ECDSA || !attestio_take(&r, 2))))
		return -EBADMSG;
	if (!attestio_r16(&r, &curve) ||
	    curve != ATTESTIO_TPM2_ECC_NIST_P256 ||
	    !attestio_r16(&r, &v) || v != ATTESTIO_TPM2_ALG_NULL)
		return -EBADMSG;
	if (!attestio_r2b(&r, 32, 32, x, &n) ||
	    !attestio_r2b(&r, 32, 32, y, &n) || r.left)
		return -EBADMSG;
	return 0;
}

u8 *attestio_tpm2_cmd_param1(struct attestio_tpm2_cmd *c, u16 *len)
{
	if (c->overflow || !c->param_off || c->len - c->param_off < 2)
		return NULL;
	*len = attestio_get_be16(c->buf + c->param_off);
	if (*len > c->len - c->param_off - 2)
		return NULL;
	return c->buf + c->param_off + 2;
}

int attestio_tpm2_create_primary_parse(const struct attestio_tpm2_rsp *rsp,
				       const u8 **pub, u16 *pub_len)
{
	struct attestio_rd r = { rsp->params, rsp->plen };

	*pub = r.p;
	if (!attestio_r2b(&r, 1, ATTESTIO_TPM2_PUBLIC_MAX, NULL, NULL))
		return -EBADMSG;
	*pub_len = r.p - *pub;
	/* creationData, creationHash, creationTicket, name */
	if (!attestio_r2b(&r, 0, 0xffff, NULL, NULL) ||
	    !attestio_r2b(&r, 0, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL) ||
	    !attestio_take(&r, 2 + 4) ||
	    !attestio_r2b(&r, 0, ATTESTIO_TPM2_DIGEST_MAX, NULL, NULL) ||
	    !attestio_r2b(&r, 1, ATTESTIO_TPM2_NAME_MAX, NULL, NULL) ||
	    r.left)
		return -EBADMSG;
	return 0;
}

int attestio_tpm2_context_parse(const struct attestio_tpm2_rsp *rsp)
{
	struct attestio_rd r = { rsp->params, rsp->plen };

	/* sequence, savedHandle, hierarchy, contextBlob */
	if (rsp->plen > ATTESTIO_TPM2_CONTEXT_MAX ||
	    !attestio_take(&r, 8 + 4 + 4) ||
	    !attestio_r2b(&r, 1, ATTESTIO_TPM2_CONTEXT_MAX, NULL, NULL) ||
	    r.left)
		return -EBADMSG;
	return 0;
}
