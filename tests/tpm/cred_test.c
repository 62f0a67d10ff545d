// SPDX-License-Identifier: GPL-2.0
/*
 * Library-level enrollment tests against a TPM (swtpm from tests/tpm/run.sh):
 * usage: cred_test TCTI AK_HANDLE [TCTI_OTHER]
 * TAP lines on stdout, numbered from $TAP_BASE + 1; exit 0 when all pass.
 *
 * - att_enroll_collect/write/parse round trip keeps every field;
 * - att_make_credential (software) is accepted by ActivateCredential;
 * - the TPM's own TPM2_MakeCredential (EK loaded public-only) is accepted
 *   too, and both wrap the same-sized blobs (cross-check of the format);
 * - a flipped byte in the blob, a wrong AK name, a wrong EK all fail;
 * - att_enroll_parse rejects truncation, bad magic, trailing bytes, a
 *   swapped AK name, duplicated records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "libattestio.h"

static int n, fails;
static const char *tcti;
static uint32_t handle;

static void ok(int cond, const char *what, const char *why)
{
	n++;
	if (cond) {
		printf("ok %d - %s\n", n, what);
	} else {
		printf("not ok %d - %s\n", n, what);
		if (why && *why)
			printf("# %s\n", why);
		fails++;
	}
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(70000);

	*len = f ? fread(buf, 1, 70000, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

/* The TPM's own MakeCredential for the bundle's EK and AK name. */
static int tpm_make_credential(const struct att_enroll_bundle *b,
			       const uint8_t *secret, size_t slen,
			       uint8_t *cred, size_t *clen, uint8_t *enc,
			       size_t *elen)
{
	TSS2_TCTI_CONTEXT *tc = NULL;
	ESYS_CONTEXT *esys = NULL;
	TPM2B_PUBLIC ek = { 0 };
	TPM2B_DIGEST cv = { 0 };
	TPM2B_NAME name = { 0 };
	TPM2B_ID_OBJECT *id = NULL;
	TPM2B_ENCRYPTED_SECRET *es = NULL;
	ESYS_TR h = ESYS_TR_NONE;
	size_t off = 0;
	int ret = -1;

	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(b->ek_pub, b->ek_pub_len, &off, &ek))
		return -1;
	if (Tss2_TctiLdr_Initialize(tcti, &tc) ||
	    Esys_Initialize(&esys, tc, NULL))
		goto out;
	if (Esys_LoadExternal(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			      NULL, &ek, ESYS_TR_RH_NULL, &h))
		goto out;
	cv.size = slen;
	memcpy(cv.buffer, secret, slen);
	name.size = b->ak_name_len;
	memcpy(name.name, b->ak_name, b->ak_name_len);
	if (Esys_MakeCredential(esys, h, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, &cv, &name, &id, &es))
		goto out;
	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(id, cred, *clen, &off))
		goto out;
	*clen = off;
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(es, enc, *elen, &off))
		goto out;
	*elen = off;
	ret = 0;
out:
	Esys_Free(id);
	Esys_Free(es);
	if (h != ESYS_TR_NONE)
		Esys_FlushContext(esys, h);
	if (esys)
		Esys_Finalize(&esys);
	if (tc)
		Tss2_TctiLdr_Finalize(&tc);
	return ret;
}

static int activate(const char *t, const uint8_t *cred, size_t clen,
		    const uint8_t *enc, size_t elen, const uint8_t *want,
		    size_t wlen, struct att_err *err)
{
	uint8_t got[64];
	size_t glen = sizeof(got);
	int ret;

	ret = att_activate_credential(t, handle, cred, clen, enc, elen, got,
				      &glen, err);
	if (ret)
		return ret;
	return glen == wlen && !memcmp(got, want, wlen) ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct att_enroll_bundle b, b2, bad;
	struct att_err err = { 0 };
	const char *base = getenv("TAP_BASE");
	const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	uint8_t secret[32], cred[256], enc[512], cred2[256], enc2[512];
	size_t clen = sizeof(cred), elen = sizeof(enc);
	size_t clen2 = sizeof(cred2), elen2 = sizeof(enc2), flen;
	char path[512];
	uint8_t *file, *mut;
	int ret, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s TCTI AK_HANDLE [OTHER_TCTI]\n",
			argv[0]);
		return 2;
	}
	tcti = argv[1];
	handle = (uint32_t)strtoul(argv[2], NULL, 0);
	n = base ? atoi(base) : 0;
	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)(0xa5 ^ (i * 7));

	/* round trip */
	ret = att_enroll_collect(tcti, handle, "gw-test-01", &b, &err);
	ok(ret == 0, "lib: att_enroll_collect", err.msg);
	if (ret)
		return 1;
	snprintf(path, sizeof(path), "%s/bundle-lib.bin", tmpdir);
	ret = att_enroll_write(path, &b, &err);
	ok(ret == 0, "lib: att_enroll_write", err.msg);
	file = slurp(path, &flen);
	ret = att_enroll_parse(file, flen, &b2, &err);
	ok(ret == 0 && b2.ek_pub_len == b.ek_pub_len &&
	   !memcmp(b2.ek_pub, b.ek_pub, b.ek_pub_len) &&
	   b2.ak_pub_len == b.ak_pub_len &&
	   !memcmp(b2.ak_pub, b.ak_pub, b.ak_pub_len) &&
	   b2.ak_name_len == b.ak_name_len &&
	   !memcmp(b2.ak_name, b.ak_name, b.ak_name_len) &&
	   b2.ek_cert_len == b.ek_cert_len &&
	   !strcmp(b2.identity, "gw-test-01"),
	   "lib: bundle round trip keeps every field", err.msg);

	/* strict parsing */
	ok(att_enroll_parse(file, flen - 1, &bad, &err) == ATT_EPARSE,
	   "lib: truncated bundle rejected", NULL);
	mut = malloc(flen + 1);
	memcpy(mut, file, flen);
	mut[flen] = 0;
	ok(att_enroll_parse(mut, flen + 1, &bad, &err) == ATT_EPARSE,
	   "lib: trailing byte rejected", NULL);
	mut[0] ^= 1;
	ok(att_enroll_parse(mut, flen, &bad, &err) == ATT_EPARSE,
	   "lib: bad magic rejected", NULL);
	mut[0] ^= 1;
	mut[flen - 16 - 1] ^= 0x10;	/* last byte of the AK name */
	ret = att_enroll_parse(mut, flen, &bad, &err);
	ok(ret == ATT_EPARSE && strstr(err.msg, "AK name"),
	   "lib: AK name not matching AK public rejected", err.msg);
	free(mut);

	/* software MakeCredential -> TPM ActivateCredential */
	ret = att_make_credential(&b2, secret, sizeof(secret), cred, &clen,
				  enc, &elen, &err);
	ok(ret == 0, "lib: att_make_credential", err.msg);
	ret = activate(tcti, cred, clen, enc, elen, secret, sizeof(secret),
		       &err);
	ok(ret == 0, "lib: software credential activates, same secret",
	   err.msg);

	/* the TPM's MakeCredential: the same format, also activates */
	ret = tpm_make_credential(&b2, secret, 20, cred2, &clen2, enc2, &elen2);
	ok(ret == 0, "tpm: Esys_MakeCredential with the EK loaded public-only",
	   NULL);
	ok(clen2 == clen - 12 && elen2 == elen,
	   "tpm and lib blobs have the same layout", NULL);
	ret = activate(tcti, cred2, clen2, enc2, elen2, secret, 20, &err);
	ok(ret == 0, "tpm: TPM-made credential activates", err.msg);

	/* tampering */
	cred[10] ^= 1;
	ret = activate(tcti, cred, clen, enc, elen, secret, sizeof(secret),
		       &err);
	ok(ret == ATT_EKEY, "lib: flipped credential byte is refused", err.msg);
	cred[10] ^= 1;
	enc[8] ^= 1;
	ret = activate(tcti, cred, clen, enc, elen, secret, sizeof(secret),
		       &err);
	ok(ret != 0, "lib: flipped secret byte is refused", err.msg);
	enc[8] ^= 1;
	b2.ak_name[5] ^= 1;
	clen = sizeof(cred);
	elen = sizeof(enc);
	ret = att_make_credential(&b2, secret, sizeof(secret), cred, &clen,
				  enc, &elen, &err);
	ret = ret ? ret : activate(tcti, cred, clen, enc, elen, secret,
				   sizeof(secret), &err);
	ok(ret == ATT_EKEY, "lib: credential for another AK name is refused",
	   err.msg);
	b2.ak_name[5] ^= 1;

	if (argc > 3) {
		clen = sizeof(cred);
		elen = sizeof(enc);
		att_make_credential(&b2, secret, sizeof(secret), cred, &clen,
				    enc, &elen, &err);
		ret = activate(argv[3], cred, clen, enc, elen, secret,
			       sizeof(secret), &err);
		ok(ret == ATT_EKEY, "lib: another TPM cannot activate", err.msg);
	}
	ok(att_make_credential(&b2, secret, 33, cred, &clen, enc, &elen,
			       &err) == ATT_EINVAL,
	   "lib: a 33-byte secret is refused", err.msg);

	att_enroll_free(&b);
	att_enroll_free(&b2);
	free(file);
	printf("# next %d\n", n);
	return fails ? 1 : 0;
}
