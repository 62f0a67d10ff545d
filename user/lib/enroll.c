// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Enrollment bundle and credential activation.
 *
 * Bundle file format, version 1 (all integers big-endian):
 *
 *   offset  size  field
 *   0       16    magic "ATTESTIO-ENROLL\0"
 *   16      2     version = 1
 *   18      2     reserved = 0
 *   20      ...   records, each: type (2) | length (4) | value (length)
 *
 *   type  value                                          presence
 *   1     EK public: marshalled TPM2B_PUBLIC             required
 *   2     EK certificate: one DER X.509 certificate      optional
 *   3     AK public: marshalled TPM2B_PUBLIC             required
 *   4     AK name: 0x000b || SHA-256(AK TPMT_PUBLIC)     required
 *   5     device identity: 1..127 bytes, printable ASCII required
 *           (0x20..0x7e)
 *
 * The parser is strict: the file is at most 64 KiB; records appear in
 * increasing type order, each at most once; unknown types are errors (a
 * later format bumps the version); no bytes may follow the last record.
 * Each TPM2B_PUBLIC must unmarshal with libtss2-mu to exactly its record's
 * length; the EK must be a restricted decryption key (ECC NIST P-256 or
 * RSA), fixedTPM; the AK must be an attestio AK (restricted ECC P-256
 * ECDSA-SHA256 signing key, fixedTPM); the AK name must equal the name
 * computed from the AK public; the certificate must be one complete DER
 * X.509 certificate.
 *
 * Credential activation (TPM 2.0 Part 1 §24, "Credential Protection"):
 * the verifier wraps a secret for (EK, AK name) with att_make_credential();
 * only the TPM holding the EK's private part, and holding a loaded object
 * with that name, gets the secret back with TPM2_ActivateCredential.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "tpm_internal.h"

#define ENROLL_MAGIC		"ATTESTIO-ENROLL\0"
#define ENROLL_MAGIC_LEN	16
#define ENROLL_VERSION		1
#define ENROLL_HDR_LEN		20
#define ENROLL_MAX_LEN		65536

enum {
	T_EK_PUB = 1,
	T_EK_CERT = 2,
	T_AK_PUB = 3,
	T_AK_NAME = 4,
	T_IDENTITY = 5,
};

int att_gateway_id(const uint8_t *ek_pub, size_t len, char id[33])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t md[EVP_MAX_MD_SIZE];

	if (!ek_pub || len < 3 || ((size_t)ek_pub[0] << 8 | ek_pub[1]) != len - 2)
		return -1;
	if (!EVP_Digest(ek_pub + 2, len - 2, md, NULL, EVP_sha256(), NULL))
		return -1;
	for (int i = 0; i < 16; i++) {
		id[2 * i] = hex[md[i] >> 4];
		id[2 * i + 1] = hex[md[i] & 15];
	}
	id[32] = 0;
	return 0;
}

/* Every certificate of every regular file in @dir into @st: count. */
static int load_ca_dir(X509_STORE *st, const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[4096];
		struct stat sb;
		X509 *x;
		FILE *f;

		if (de->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path) || stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue;
		f = fopen(path, "rb");
		if (!f)
			continue;
		while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
			n += X509_STORE_add_cert(st, x) == 1;
			X509_free(x);
		}
		ERR_clear_error();
		rewind(f);
		x = d2i_X509_fp(f, NULL);
		if (x) {
			n += X509_STORE_add_cert(st, x) == 1;
			X509_free(x);
		}
		ERR_clear_error();
		fclose(f);
	}
	closedir(d);
	return n;
}

int att_enroll_check_ek_cert(const struct att_enroll_bundle *b,
			     const char *ca_dir, struct att_err *err)
{
	const uint8_t *p = b ? b->ek_cert : NULL;
	X509_STORE_CTX *ctx = NULL;
	EVP_PKEY *ek = NULL, *ck;
	X509_STORE *st = NULL;
	TPM2B_PUBLIC pub;
	X509 *x = NULL;
	int ret, n;

	if (!b || !b->ek_cert || !b->ek_cert_len)
		return att_tpm_seterr(err, ATT_EINVAL, "the bundle has no EK "
				      "certificate");
	x = d2i_X509(NULL, &p, (long)b->ek_cert_len);
	if (!x || p != b->ek_cert + b->ek_cert_len) {
		ret = att_tpm_seterr(err, ATT_EKEY, "the EK certificate is "
				     "not one DER certificate");
		goto out;
	}
	if (att_tpm_unmarshal_public(b->ek_pub, b->ek_pub_len, &pub) ||
	    att_tpm_pkey(&pub.publicArea, &ek, err)) {
		ret = att_tpm_seterr(err, ATT_EKEY, "the bundle's EK public "
				     "is not a key");
		goto out;
	}
	ck = X509_get0_pubkey(x);
	if (!ck || EVP_PKEY_eq(ck, ek) != 1) {
		ret = att_tpm_seterr(err, ATT_EKEY, "the EK certificate "
				     "certifies another key than the bundle's EK");
		goto out;
	}
	st = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!st || !ctx) {
		ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
		goto out;
	}
	n = load_ca_dir(st, ca_dir);
	if (n <= 0) {
		ret = att_tpm_seterr(err, ATT_EINVAL, "EK CA directory %s: %s",
				     ca_dir, n < 0 ? strerror(errno) :
				     "no certificate in it");
		goto out;
	}
	if (X509_STORE_CTX_init(ctx, st, x, NULL) != 1) {
		ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		ret = att_tpm_seterr(err, ATT_EKEY, "EK certificate chain: %s",
				     X509_verify_cert_error_string(
					     X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	ret = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	EVP_PKEY_free(ek);
	X509_free(x);
	ERR_clear_error();
	return ret;
}

void att_enroll_free(struct att_enroll_bundle *b)
{
	if (!b)
		return;
	free(b->ek_pub);
	free(b->ek_cert);
	free(b->ak_pub);
	memset(b, 0, sizeof(*b));
}

static int marshal_public(const TPM2B_PUBLIC *pub, uint8_t **out,
			  size_t *len, struct att_err *err)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;

	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off))
		return att_tpm_seterr(err, ATT_EKEY,
				      "cannot marshal a public key");
	*out = malloc(off);
	if (!*out)
		return att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
	memcpy(*out, buf, off);
	*len = off;
	return 0;
}

static bool identity_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 127)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* The persistent key at @handle, which must exist (provisioned). */
static int att_open_ak(struct att_tpm *t, uint32_t handle, ESYS_TR *ak,
		       TPM2B_PUBLIC **pub, TPM2B_NAME **name,
		       struct att_err *err)
{
	bool exists;
	int ret;

	ret = att_tpm_handle_exists(t, handle, &exists, err);
	if (ret)
		return ret;
	if (!exists)
		return att_tpm_seterr(err, ATT_EKEY,
			"no key at handle 0x%08x; run attestio provision first",
			handle);
	return att_tpm_read_persistent(t, handle, ak, pub, name, err);
}

int att_enroll_collect(const char *tcti, uint32_t ak_handle,
		       const char *identity, struct att_enroll_bundle *b,
		       struct att_err *err)
{
	struct att_tpm t;
	TPM2B_PUBLIC *ekpub = NULL, *akpub = NULL;
	TPM2B_NAME *akname = NULL;
	ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE;
	char host[128];
	int ret;

	if (!b)
		return att_tpm_seterr(err, ATT_EINVAL, "no bundle");
	memset(b, 0, sizeof(*b));
	if (!ak_handle)
		ak_handle = ATT_DEFAULT_AK_HANDLE;
	if (!identity) {
		if (gethostname(host, sizeof(host) - 1))
			return att_tpm_seterr(err, ATT_EINVAL,
				"no --identity given and no host name");
		host[sizeof(host) - 1] = '\0';
		identity = host;
	}
	if (!identity_ok(identity, strlen(identity)))
		return att_tpm_seterr(err, ATT_EINVAL,
			"identity must be 1-127 printable ASCII characters");
	snprintf(b->identity, sizeof(b->identity), "%s", identity);

	ret = att_tpm_open(tcti, &t, err);
	if (ret)
		return ret;
	ret = att_open_ak(&t, ak_handle, &ak, &akpub, &akname, err);
	if (ret)
		goto out;
	if (!att_tpm_is_ak(&akpub->publicArea)) {
		ret = att_tpm_seterr(err, ATT_EKEY,
			"handle 0x%08x holds a key that is not an attestio AK",
			ak_handle);
		goto out;
	}
	if (akname->size > sizeof(b->ak_name)) {
		ret = att_tpm_seterr(err, ATT_ETPM, "AK name too long");
		goto out;
	}
	memcpy(b->ak_name, akname->name, akname->size);
	b->ak_name_len = akname->size;
	ret = marshal_public(akpub, &b->ak_pub, &b->ak_pub_len, err);
	if (ret)
		goto out;
	ret = att_tpm_create_ek(&t, &ek, &ekpub, err);
	if (ret)
		goto out;
	ret = marshal_public(ekpub, &b->ek_pub, &b->ek_pub_len, err);
	if (ret)
		goto out;
	ret = att_tpm_read_ek_cert(&t, &b->ek_cert, &b->ek_cert_len, err);
out:
	if (ek != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, ek);
	if (ak != ESYS_TR_NONE)
		Esys_TR_Close(t.esys, &ak);
	Esys_Free(ekpub);
	Esys_Free(akpub);
	Esys_Free(akname);
	att_tpm_close(&t);
	if (ret)
		att_enroll_free(b);
	return ret;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static size_t put_rec(uint8_t *out, size_t off, uint16_t type,
		      const void *val, size_t len)
{
	put16(out + off, type);
	put32(out + off + 2, (uint32_t)len);
	memcpy(out + off + 6, val, len);
	return off + 6 + len;
}

/* Serialise @b (it must pass att_enroll_parse's checks). */
static int enroll_serialise(const struct att_enroll_bundle *b, uint8_t **out,
			    size_t *out_len, struct att_err *err)
{
	size_t idlen = strnlen(b->identity, sizeof(b->identity));
	size_t n = ENROLL_HDR_LEN + 5 * 6 + b->ek_pub_len + b->ek_cert_len +
		   b->ak_pub_len + b->ak_name_len + idlen;
	struct att_enroll_bundle check;
	uint8_t *buf;
	size_t off;
	int ret;

	if (n > ENROLL_MAX_LEN)
		return att_tpm_seterr(err, ATT_EINVAL, "bundle too large");
	buf = calloc(1, n);
	if (!buf)
		return att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
	memcpy(buf, ENROLL_MAGIC, ENROLL_MAGIC_LEN);
	put16(buf + 16, ENROLL_VERSION);
	put16(buf + 18, 0);
	off = ENROLL_HDR_LEN;
	off = put_rec(buf, off, T_EK_PUB, b->ek_pub, b->ek_pub_len);
	if (b->ek_cert_len)
		off = put_rec(buf, off, T_EK_CERT, b->ek_cert, b->ek_cert_len);
	off = put_rec(buf, off, T_AK_PUB, b->ak_pub, b->ak_pub_len);
	off = put_rec(buf, off, T_AK_NAME, b->ak_name, b->ak_name_len);
	off = put_rec(buf, off, T_IDENTITY, b->identity, idlen);
	/* never write what we would refuse to read */
	ret = att_enroll_parse(buf, off, &check, err);
	if (ret) {
		free(buf);
		return ret;
	}
	att_enroll_free(&check);
	*out = buf;
	*out_len = off;
	return 0;
}

int att_enroll_encode(const struct att_enroll_bundle *b, uint8_t **out,
		      size_t *len, struct att_err *err)
{
	if (!b || !out || !len)
		return att_tpm_seterr(err, ATT_EINVAL, "missing argument");
	return enroll_serialise(b, out, len, err);
}

int att_enroll_write(const char *path, const struct att_enroll_bundle *b,
		     struct att_err *err)
{
	uint8_t *buf;
	size_t len;
	int ret;

	if (!path || !b)
		return att_tpm_seterr(err, ATT_EINVAL, "no path or bundle");
	ret = enroll_serialise(b, &buf, &len, err);
	if (ret)
		return ret;
	if (!strcmp(path, "-")) {
		ret = fwrite(buf, 1, len, stdout) == len && !fflush(stdout) ? 0 :
			att_tpm_seterr(err, ATT_EIO, "cannot write to stdout");
	} else {
		ret = att_write_file(path, buf, len, err);
	}
	free(buf);
	return ret;
}

static int check_ek(const TPMT_PUBLIC *p)
{
	TPMA_OBJECT need = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_RESTRICTED |
			   TPMA_OBJECT_DECRYPT;

	if ((p->objectAttributes & need) != need ||
	    (p->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT))
		return -1;
	if (p->type == TPM2_ALG_ECC)
		return p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 &&
		       p->unique.ecc.x.size == 32 &&
		       p->unique.ecc.y.size == 32 ? 0 : -1;
	if (p->type == TPM2_ALG_RSA)
		return p->unique.rsa.size >= 256 ? 0 : -1;
	return -1;
}

#define PFAIL(...) do { \
	ret = att_tpm_seterr(err, ATT_EPARSE, "enrollment bundle: " __VA_ARGS__); \
	goto fail; \
} while (0)

int att_enroll_parse(const uint8_t *buf, size_t len,
		     struct att_enroll_bundle *b, struct att_err *err)
{
	static const char *const tname[] = { "", "EK public",
		"EK certificate", "AK public", "AK name", "identity" };
	TPM2B_PUBLIC pub;
	uint8_t name[66];
	size_t off, name_len;
	int last = 0, ret;

	if (!b)
		return att_tpm_seterr(err, ATT_EINVAL, "no bundle");
	memset(b, 0, sizeof(*b));
	if (!buf || len < ENROLL_HDR_LEN)
		PFAIL("too short (%zu bytes)", len);
	if (len > ENROLL_MAX_LEN)
		PFAIL("too long (%zu bytes, at most %d)", len, ENROLL_MAX_LEN);
	if (memcmp(buf, ENROLL_MAGIC, ENROLL_MAGIC_LEN))
		PFAIL("bad magic (not an attestio enrollment bundle)");
	if (get16(buf + 16) != ENROLL_VERSION)
		PFAIL("unsupported version %u", get16(buf + 16));
	if (get16(buf + 18))
		PFAIL("reserved field is not zero");

	for (off = ENROLL_HDR_LEN; off < len;) {
		unsigned int type;
		size_t vlen;
		const uint8_t *v;

		if (len - off < 6)
			PFAIL("truncated record header at offset %zu", off);
		type = get16(buf + off);
		vlen = get32(buf + off + 2);
		v = buf + off + 6;
		if (vlen > len - off - 6)
			PFAIL("record type %u at offset %zu: length %zu runs "
			      "past the end", type, off, vlen);
		if (type < T_EK_PUB || type > T_IDENTITY)
			PFAIL("unknown record type %u at offset %zu", type, off);
		if ((int)type <= last)
			PFAIL("%s record out of order or repeated", tname[type]);
		last = type;
		off += 6 + vlen;

		switch (type) {
		case T_EK_PUB:
		case T_AK_PUB:
			if (att_tpm_unmarshal_public(v, vlen, &pub))
				PFAIL("%s is not one complete TPM2B_PUBLIC",
				      tname[type]);
			if (type == T_EK_PUB) {
				if (check_ek(&pub.publicArea))
					PFAIL("EK public is not a restricted "
					      "decryption key (ECC P-256 or RSA)");
				b->ek_pub = malloc(vlen);
				if (!b->ek_pub)
					goto nomem;
				memcpy(b->ek_pub, v, vlen);
				b->ek_pub_len = vlen;
			} else {
				if (!att_tpm_is_ak(&pub.publicArea))
					PFAIL("AK public is not a restricted ECC "
					      "P-256 ECDSA-SHA256 signing key");
				if (pub.publicArea.unique.ecc.x.size != 32 ||
				    pub.publicArea.unique.ecc.y.size != 32)
					PFAIL("AK public point is malformed");
				b->ak_pub = malloc(vlen);
				if (!b->ak_pub)
					goto nomem;
				memcpy(b->ak_pub, v, vlen);
				b->ak_pub_len = vlen;
			}
			break;
		case T_EK_CERT: {
			const unsigned char *p = v;
			X509 *x;

			if (vlen == 0)
				PFAIL("empty EK certificate record");
			x = d2i_X509(NULL, &p, (long)vlen);
			if (!x || p != v + vlen) {
				X509_free(x);
				PFAIL("EK certificate is not one DER X.509 "
				      "certificate");
			}
			X509_free(x);
			b->ek_cert = malloc(vlen);
			if (!b->ek_cert)
				goto nomem;
			memcpy(b->ek_cert, v, vlen);
			b->ek_cert_len = vlen;
			break;
		}
		case T_AK_NAME:
			if (vlen != 34 || get16(v) != TPM2_ALG_SHA256)
				PFAIL("AK name is not a SHA-256 TPM name");
			memcpy(b->ak_name, v, vlen);
			b->ak_name_len = vlen;
			break;
		case T_IDENTITY:
			if (!identity_ok((const char *)v, vlen))
				PFAIL("identity must be 1-127 printable ASCII "
				      "characters");
			memcpy(b->identity, v, vlen);
			b->identity[vlen] = '\0';
			break;
		}
	}
	if (!b->ek_pub)
		PFAIL("no EK public record");
	if (!b->ak_pub)
		PFAIL("no AK public record");
	if (!b->ak_name_len)
		PFAIL("no AK name record");
	if (!b->identity[0])
		PFAIL("no identity record");
	/* the name must be the AK's: the credential is bound to it */
	if (att_tpm_unmarshal_public(b->ak_pub, b->ak_pub_len, &pub) ||
	    att_tpm_name(&pub.publicArea, name, &name_len) ||
	    name_len != b->ak_name_len ||
	    memcmp(name, b->ak_name, name_len))
		PFAIL("AK name does not match the AK public");
	return 0;
nomem:
	ret = att_tpm_seterr(err, ATT_ENOMEM, "out of memory");
fail:
	att_enroll_free(b);
	return ret;
}

/* ------------------------------------------------- MakeCredential --- */

/*
 * KDFa (Part 1 §11.4.10.2) with HMAC-SHA-256:
 *   K(i) = HMAC(key, [i]32 || label || 0x00 || contextU || contextV || [bits]32)
 */
static int kdfa(const uint8_t *key, size_t key_len, const char *label,
		const uint8_t *cu, size_t cu_len, const uint8_t *cv,
		size_t cv_len, unsigned int bits, uint8_t *out)
{
	size_t lab = strlen(label) + 1, need = (bits + 7) / 8, done = 0;
	uint8_t msg[4 + 32 + 128 + 128 + 4], md[32];
	unsigned int mdlen;
	uint32_t i;

	if (lab > 32 || cu_len > 128 || cv_len > 128)
		return -1;
	for (i = 1; done < need; i++) {
		size_t m = 0, n;

		put32(msg, i);
		m = 4;
		memcpy(msg + m, label, lab);
		m += lab;
		if (cu_len)
			memcpy(msg + m, cu, cu_len);
		m += cu_len;
		if (cv_len)
			memcpy(msg + m, cv, cv_len);
		m += cv_len;
		put32(msg + m, bits);
		m += 4;
		if (!HMAC(EVP_sha256(), key, (int)key_len, msg, m, md, &mdlen))
			return -1;
		n = need - done < mdlen ? need - done : mdlen;
		memcpy(out + done, md, n);
		done += n;
	}
	return 0;
}

/*
 * KDFe (Part 1 §11.4.10.3) with SHA-256:
 *   K(i) = H([i]32 || Z || use || 0x00 || partyUInfo || partyVInfo)
 */
static int kdfe(const uint8_t *z, size_t z_len, const char *use,
		const uint8_t *pu, size_t pu_len, const uint8_t *pv,
		size_t pv_len, unsigned int bits, uint8_t *out)
{
	size_t need = (bits + 7) / 8, done = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t ctr[4], md[32];
	unsigned int mdlen;
	uint32_t i;
	int ret = -1;

	if (!ctx)
		return -1;
	for (i = 1; done < need; i++) {
		size_t n;

		put32(ctr, i);
		if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
		    !EVP_DigestUpdate(ctx, ctr, 4) ||
		    !EVP_DigestUpdate(ctx, z, z_len) ||
		    !EVP_DigestUpdate(ctx, use, strlen(use) + 1) ||
		    !EVP_DigestUpdate(ctx, pu, pu_len) ||
		    !EVP_DigestUpdate(ctx, pv, pv_len) ||
		    !EVP_DigestFinal_ex(ctx, md, &mdlen))
			goto out;
		n = need - done < mdlen ? need - done : mdlen;
		memcpy(out + done, md, n);
		done += n;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* ECC EK: ephemeral ECDH; seed = KDFe(Z, "IDENTITY", Qe.x, Qek.x). */
static int seed_ecc(const TPMT_PUBLIC *ek, uint8_t seed[32],
		    TPM2B_ENCRYPTED_SECRET *es, struct att_err *err)
{
	EVP_PKEY *ekkey = NULL, *eph = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	TPMS_ECC_POINT pt = { 0 };
	uint8_t z[32], q[65];
	size_t zlen = sizeof(z), qlen = 0, off = 0;
	int ret;

	ret = att_tpm_pkey(ek, &ekkey, err);
	if (ret)
		return ret;
	ret = att_tpm_seterr(err, ATT_EKEY, "ECDH with the EK failed");
	eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!eph)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, ekkey) <= 0 ||
	    EVP_PKEY_derive(ctx, z, &zlen) <= 0 || zlen != 32)
		goto out;
	if (!EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY, q,
					     sizeof(q), &qlen) ||
	    qlen != 65 || q[0] != 0x04)
		goto out;
	pt.x.size = 32;
	memcpy(pt.x.buffer, q + 1, 32);
	pt.y.size = 32;
	memcpy(pt.y.buffer, q + 33, 32);
	if (kdfe(z, 32, "IDENTITY", pt.x.buffer, 32, ek->unique.ecc.x.buffer,
		 ek->unique.ecc.x.size, 256, seed))
		goto out;
	if (Tss2_MU_TPMS_ECC_POINT_Marshal(&pt, es->secret,
					   sizeof(es->secret), &off))
		goto out;
	es->size = off;
	ret = 0;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(ekkey);
	return ret;
}

/* RSA EK: random seed, RSA-OAEP(SHA-256, label "IDENTITY\0"). */
static int seed_rsa(const TPMT_PUBLIC *ek, uint8_t seed[32],
		    TPM2B_ENCRYPTED_SECRET *es, struct att_err *err)
{
	EVP_PKEY *ekkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen = sizeof(es->secret);
	char *label = NULL;
	int ret;

	ret = att_tpm_pkey(ek, &ekkey, err);
	if (ret)
		return ret;
	ret = att_tpm_seterr(err, ATT_EKEY, "RSA-OAEP with the EK failed");
	label = OPENSSL_malloc(9);
	if (!label || RAND_bytes(seed, 32) != 1)
		goto out;
	memcpy(label, "IDENTITY", 9);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ekkey, NULL);
	if (!ctx || EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, 9) <= 0)
		goto out;
	label = NULL;	/* owned by ctx now */
	if (EVP_PKEY_encrypt(ctx, es->secret, &outlen, seed, 32) <= 0)
		goto out;
	es->size = outlen;
	ret = 0;
out:
	OPENSSL_free(label);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(ekkey);
	return ret;
}

int att_make_credential(const struct att_enroll_bundle *b,
			const uint8_t *secret, size_t secret_len,
			uint8_t *cred_blob, size_t *cred_blob_len,
			uint8_t *enc_secret, size_t *enc_secret_len,
			struct att_err *err)
{
	TPM2B_PUBLIC ek;
	TPM2B_DIGEST cv = { 0 };
	TPM2B_ID_OBJECT id = { 0 };
	TPM2B_ENCRYPTED_SECRET es = { 0 };
	uint8_t seed[32], symkey[16], hmackey[32], plain[2 + 32];
	uint8_t *enc, *hmac_in = NULL;
	unsigned int mdlen;
	EVP_CIPHER_CTX *c = NULL;
	size_t plen = 0, off;
	int outl, finl, ret;

	if (!b || !secret || !cred_blob || !cred_blob_len || !enc_secret ||
	    !enc_secret_len)
		return att_tpm_seterr(err, ATT_EINVAL, "missing argument");
	if (secret_len == 0 || secret_len > 32)
		return att_tpm_seterr(err, ATT_EINVAL,
			"credential secret must be 1-32 bytes, not %zu",
			secret_len);
	if (!b->ek_pub || att_tpm_unmarshal_public(b->ek_pub, b->ek_pub_len,
						   &ek))
		return att_tpm_seterr(err, ATT_EKEY,
				      "bundle has no valid EK public");
	if (b->ak_name_len != 34)
		return att_tpm_seterr(err, ATT_EKEY,
				      "bundle has no valid AK name");
	if (ek.publicArea.nameAlg != TPM2_ALG_SHA256 || check_ek(&ek.publicArea))
		return att_tpm_seterr(err, ATT_EKEY,
			"EK is not a SHA-256 restricted decryption key");
	{
		const TPMT_SYM_DEF_OBJECT *sym = ek.publicArea.type ==
			TPM2_ALG_ECC ? &ek.publicArea.parameters.eccDetail.symmetric :
			&ek.publicArea.parameters.rsaDetail.symmetric;

		if (sym->algorithm != TPM2_ALG_AES || sym->keyBits.aes != 128 ||
		    sym->mode.aes != TPM2_ALG_CFB)
			return att_tpm_seterr(err, ATT_EKEY,
				"EK symmetric scheme is not AES-128-CFB");
	}

	ret = ek.publicArea.type == TPM2_ALG_ECC ?
		seed_ecc(&ek.publicArea, seed, &es, err) :
		seed_rsa(&ek.publicArea, seed, &es, err);
	if (ret)
		return ret;

	ret = att_tpm_seterr(err, ATT_ENOMEM, "credential encryption failed");
	/* symKey = KDFa(seed, "STORAGE", name, "", 128) */
	if (kdfa(seed, 32, "STORAGE", b->ak_name, b->ak_name_len, NULL, 0,
		 128, symkey) ||
	    kdfa(seed, 32, "INTEGRITY", NULL, 0, NULL, 0, 256, hmackey))
		goto out;
	/* encIdentity = AES-128-CFB(symKey, IV 0, marshalled TPM2B_DIGEST) */
	cv.size = secret_len;
	memcpy(cv.buffer, secret, secret_len);
	if (Tss2_MU_TPM2B_DIGEST_Marshal(&cv, plain, sizeof(plain), &plen))
		goto out;
	/* TPM2B_ID_OBJECT.credential = TPM2B_DIGEST(outerHMAC) || encIdentity */
	enc = id.credential + 2 + 32;
	c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, symkey,
				      (const uint8_t[16]){ 0 }) ||
	    !EVP_EncryptUpdate(c, enc, &outl, plain, (int)plen) ||
	    !EVP_EncryptFinal_ex(c, enc + outl, &finl) ||
	    (size_t)(outl + finl) != plen)
		goto out;
	/* outerHMAC = HMAC(hmacKey, encIdentity || name) */
	hmac_in = malloc(plen + b->ak_name_len);
	if (!hmac_in)
		goto out;
	memcpy(hmac_in, enc, plen);
	memcpy(hmac_in + plen, b->ak_name, b->ak_name_len);
	put16(id.credential, 32);
	if (!HMAC(EVP_sha256(), hmackey, 32, hmac_in, plen + b->ak_name_len,
		  id.credential + 2, &mdlen) || mdlen != 32)
		goto out;
	id.size = 2 + 32 + plen;

	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, cred_blob, *cred_blob_len,
					    &off)) {
		ret = att_tpm_seterr(err, ATT_EINVAL,
				     "credential blob buffer too small");
		goto out;
	}
	*cred_blob_len = off;
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&es, enc_secret,
						   *enc_secret_len, &off)) {
		ret = att_tpm_seterr(err, ATT_EINVAL,
				     "encrypted secret buffer too small");
		goto out;
	}
	*enc_secret_len = off;
	ret = 0;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hmackey, sizeof(hmackey));
	OPENSSL_cleanse(plain, sizeof(plain));
	EVP_CIPHER_CTX_free(c);
	free(hmac_in);
	return ret;
}

/* ---------------------------------------------- ActivateCredential --- */

int att_activate_credential(const char *tcti, uint32_t ak_handle,
			    const uint8_t *cred_blob, size_t cred_blob_len,
			    const uint8_t *enc_secret, size_t enc_secret_len,
			    uint8_t *secret, size_t *secret_len,
			    struct att_err *err)
{
	TPM2B_ID_OBJECT id;
	TPM2B_ENCRYPTED_SECRET es;
	TPM2B_DIGEST *out = NULL;
	TPM2B_PUBLIC *akpub = NULL;
	TPM2B_NAME *akname = NULL;
	ESYS_TR ek = ESYS_TR_NONE, ak = ESYS_TR_NONE, sess = ESYS_TR_NONE;
	ESYS_TR aksess = ESYS_TR_PASSWORD;
	struct att_tpm t;
	size_t off;
	TSS2_RC rc;
	int ret;

	if (!cred_blob || !enc_secret || !secret || !secret_len)
		return att_tpm_seterr(err, ATT_EINVAL, "missing argument");
	if (!ak_handle)
		ak_handle = ATT_DEFAULT_AK_HANDLE;
	memset(&id, 0, sizeof(id));
	memset(&es, 0, sizeof(es));
	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred_blob, cred_blob_len, &off,
					      &id) || off != cred_blob_len)
		return att_tpm_seterr(err, ATT_EPARSE,
			"credential blob is not one TPM2B_ID_OBJECT");
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc_secret, enc_secret_len,
						     &off, &es) ||
	    off != enc_secret_len)
		return att_tpm_seterr(err, ATT_EPARSE,
			"encrypted secret is not one TPM2B_ENCRYPTED_SECRET");

	ret = att_tpm_open(tcti, &t, err);
	if (ret)
		return ret;
	ret = att_open_ak(&t, ak_handle, &ak, &akpub, &akname, err);
	if (ret)
		goto out;
	ret = att_tpm_create_ek(&t, &ek, NULL, err);
	if (ret)
		goto out;
	ret = att_tpm_ek_session(&t, &sess, err);
	if (ret)
		goto out;
	/* an AK provisioned by attestio: its policy, not a password */
	if (akpub->publicArea.objectAttributes & TPMA_OBJECT_ADMINWITHPOLICY) {
		ret = att_tpm_ak_session(&t, TPM2_CC_ActivateCredential,
					 &aksess, err);
		if (ret)
			goto out;
	}
	rc = Esys_ActivateCredential(t.esys, ak, ek, aksess, sess,
				     ESYS_TR_NONE, &id, &es, &out);
	if (rc != TSS2_RC_SUCCESS) {
		TSS2_RC base = att_tpm_rc_base(rc);

		if (base == TPM2_RC_INTEGRITY || base == TPM2_RC_VALUE ||
		    base == TPM2_RC_ECC_POINT || base == TPM2_RC_SIZE ||
		    base == TPM2_RC_FAILURE)
			ret = att_tpm_seterr(err, ATT_EKEY,
				"credential activation refused (%s, 0x%x): the "
				"challenge was not made for this TPM's EK and AK",
				base == TPM2_RC_INTEGRITY ? "integrity check failed" :
				"bad secret", rc);
		else
			ret = att_tpm_fail(err, "TPM2_ActivateCredential", rc,
					   false);
		goto out;
	}
	if (out->size > *secret_len) {
		ret = att_tpm_seterr(err, ATT_EINVAL,
				     "secret buffer too small (%u bytes needed)",
				     out->size);
		goto out;
	}
	memcpy(secret, out->buffer, out->size);
	*secret_len = out->size;
out:
	if (out) {
		OPENSSL_cleanse(out->buffer, sizeof(out->buffer));
		Esys_Free(out);
	}
	if (sess != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, sess);
	if (aksess != ESYS_TR_PASSWORD)
		Esys_FlushContext(t.esys, aksess);
	if (ek != ESYS_TR_NONE)
		Esys_FlushContext(t.esys, ek);
	if (ak != ESYS_TR_NONE)
		Esys_TR_Close(t.esys, &ak);
	Esys_Free(akpub);
	Esys_Free(akname);
	att_tpm_close(&t);
	return ret;
}
