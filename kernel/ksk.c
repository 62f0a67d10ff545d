// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel session key (KSK): the only key that signs checkpoints.
 *
 * At load the module creates, inside the TPM, a restricted ECC P-256
 * signing key under a storage primary of the NULL hierarchy, with a random
 * 32-byte authValue that exists only in this module's memory.  The key is
 * an ordinary object (its private part comes from the TPM's RNG), so
 * nobody can re-create it; it is registered by one measured event
 * (ATTESTIO_MEV_KEY in PCR ATTESTIO_MLOG_PCR) and certified by the
 * enrolled attestation key at key_handle (ATTESTIO_MEV_CERT).  Every use
 * is authorized by an unbound, unsalted HMAC session keyed by the
 * authValue, so the authValue never appears in a command.
 *
 * Everything here runs in process context under attestio_ksk.lock; the
 * lock order is attestio_ksk.lock -> the measurement log's lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/random.h>
#include <linux/tpm.h>

#include "attestio.h"
#include "tpm2_sess.h"
#include "version.h"

enum attestio_ksk_step {
	ATTESTIO_KSK_STEP_CREATE = 1,
	ATTESTIO_KSK_STEP_LOAD = 2,
	ATTESTIO_KSK_STEP_SESSION = 3,
};

static const u8 attestio_tag_ksk[ATTESTIO_TAG_LEN] = ATTESTIO_TAG_KSK;

static struct {
	struct mutex lock;	/* protects everything below */
	u8 *buf;		/* PAGE_SIZE command buffer */
	bool have_key;
	u32 handle;		/* while loaded for one command */
	u8 ctx[ATTESTIO_TPM2_CONTEXT_MAX];	/* its saved context */
	u16 ctx_len;
	u8 name[ATTESTIO_TPM2_NAME_LEN];
	u8 pub[2 + ATTESTIO_TPM2_PUBLIC_MAX];
	u16 pub_len;
	u8 auth[ATTESTIO_TPM2_AUTH_LEN];
	struct attestio_tpm2_sess sess;	/* for one command at a time */
	u32 cert_handle;	/* key_handle of the last certification */
	s32 cert_rc;		/* result of the last certification */
	u32 cert_failed;	/* key_handle whose certification at load failed */
} attestio_ksk;

static void attestio_ksk_flush(struct tpm_chip *chip, u32 handle)
{
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len;

	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_FLUSH_CONTEXT, NULL, 0);
	attestio_tpm2_cmd_u32(&c, handle);
	len = attestio_tpm2_cmd_finish(&c);
	if (len > 0)
		attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				  ATTESTIO_TPM2_CC_FLUSH_CONTEXT, 0, NULL, 0,
				  &rsp);
}

/* StartAuthSession: unbound, unsalted, no parameter encryption. */
static int attestio_ksk_start_session(struct tpm_chip *chip,
				      struct attestio_tpm2_sess *sess,
				      bool policy)
{
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len, ret;

	memset(sess, 0, sizeof(*sess));
	sess->policy = policy;
	get_random_bytes(sess->nonce_caller, sizeof(sess->nonce_caller));
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_START_AUTH_SESSION, NULL, 0);
	attestio_tpm2_cmd_handle(&c, ATTESTIO_TPM2_RH_NULL, NULL, 0);
	attestio_tpm2_cmd_handle(&c, ATTESTIO_TPM2_RH_NULL, NULL, 0);
	attestio_tpm2_cmd_2b(&c, sess->nonce_caller, ATTESTIO_TPM2_NONCE_LEN);
	attestio_tpm2_cmd_u16(&c, 0);		/* encryptedSalt "" */
	attestio_tpm2_cmd_u8(&c, policy ? ATTESTIO_TPM2_SE_POLICY :
					  ATTESTIO_TPM2_SE_HMAC);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_NULL);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_START_AUTH_SESSION, 1, NULL, 0,
				&rsp);
	if (ret)
		return ret;
	ret = attestio_tpm2_start_session_parse(&rsp, sess);
	if (ret)
		return ret;
	sess->attrs = 0;	/* used once: the TPM flushes it after use */
	return 0;
}

/*
 * The KSK is kept as a saved context and loaded only for the command that
 * uses it, with a fresh HMAC session that the TPM flushes after that
 * command: between epochs it holds no TPM object or session slot, which
 * the resource manager's users (and the TPM's 3 slots) need.
 */
static int attestio_ksk_get(struct tpm_chip *chip)
{
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len, ret;

	lockdep_assert_held(&attestio_ksk.lock);
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_CONTEXT_LOAD, NULL, 0);
	attestio_tpm2_cmd_bytes(&c, attestio_ksk.ctx, attestio_ksk.ctx_len);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_CONTEXT_LOAD, 1, NULL, 0,
				&rsp);
	if (ret)
		return ret;
	if (rsp.plen || rsp.handles[0] >> 24 != ATTESTIO_TPM2_HT_TRANSIENT)
		return -EBADMSG;
	attestio_ksk.handle = rsp.handles[0];
	ret = attestio_ksk_start_session(chip, &attestio_ksk.sess, false);
	if (ret)
		attestio_ksk_flush(chip, attestio_ksk.handle);
	return ret;
}

/* After the command: unload the KSK; flush the session if it failed. */
static void attestio_ksk_put(struct tpm_chip *chip, bool failed)
{
	if (failed)
		attestio_ksk_flush(chip, attestio_ksk.sess.handle);
	attestio_ksk_flush(chip, attestio_ksk.handle);
	memzero_explicit(&attestio_ksk.sess, sizeof(attestio_ksk.sess));
}

/* TPM2_ContextSave of the freshly loaded KSK, then unload it. */
static int attestio_ksk_save(struct tpm_chip *chip)
{
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len, ret;

	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_CONTEXT_SAVE, NULL, 0);
	attestio_tpm2_cmd_handle(&c, attestio_ksk.handle, NULL, 0);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_CONTEXT_SAVE, 0, NULL, 0,
				&rsp);
	if (!ret)
		ret = attestio_tpm2_context_parse(&rsp);
	if (!ret) {
		memcpy(attestio_ksk.ctx, rsp.params, rsp.plen);
		attestio_ksk.ctx_len = rsp.plen;
	}
	attestio_ksk_flush(chip, attestio_ksk.handle);
	return ret;
}

static void attestio_ksk_auth(struct attestio_tpm2_auth *a)
{
	get_random_bytes(attestio_ksk.sess.nonce_caller,
			 sizeof(attestio_ksk.sess.nonce_caller));
	a->sess = &attestio_ksk.sess;
	a->auth = attestio_ksk.auth;
	a->auth_len = sizeof(attestio_ksk.auth);
}

/*
 * CreatePrimary(TPM_RH_NULL, storage template): the KSK's parent, its
 * public point for salting (@x, @y: 32 bytes each) and its @name.
 */
static int attestio_ksk_parent(struct tpm_chip *chip, u32 *parent, u8 *x,
			       u8 *y, u8 *name)
{
	const u8 *pub, *area, *px, *py;
	u16 pub_len, area_len;
	u32 attrs;
	struct attestio_tpm2_auth pw = { 0 };
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	u8 tmpl[64];
	int len, ret;

	len = attestio_tpm2_parent_template(tmpl, sizeof(tmpl));
	if (len < 0)
		return len;
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_CREATE_PRIMARY, &pw, 1);
	attestio_tpm2_cmd_handle(&c, ATTESTIO_TPM2_RH_NULL, NULL, 0);
	attestio_tpm2_cmd_u16(&c, 4);		/* inSensitive: "", "" */
	attestio_tpm2_cmd_u16(&c, 0);
	attestio_tpm2_cmd_u16(&c, 0);
	attestio_tpm2_cmd_2b(&c, tmpl, len);
	attestio_tpm2_cmd_u16(&c, 0);		/* outsideInfo */
	attestio_tpm2_cmd_u32(&c, 0);		/* creationPCR */
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_CREATE_PRIMARY, 1, &pw, 1,
				&rsp);
	if (ret)
		return ret;
	if (rsp.handles[0] >> 24 != ATTESTIO_TPM2_HT_TRANSIENT)
		return -EBADMSG;
	*parent = rsp.handles[0];
	ret = attestio_tpm2_create_primary_parse(&rsp, &pub, &pub_len);
	if (!ret)
		ret = attestio_tpm2_public_parse(pub, pub_len, &attrs, &area,
						 &area_len);
	if (!ret)
		ret = attestio_tpm2_ecc_point(area, area_len, &px, &py);
	if (ret) {
		attestio_ksk_flush(chip, *parent);
		return ret;
	}
	memcpy(x, px, 32);
	memcpy(y, py, 32);
	attestio_tpm2_name(area, area_len, name);
	return 0;
}

/*
 * TPM2_Create of the KSK under @parent; its TPM2B_PRIVATE into @priv.
 * inSensitive (the authValue) is encrypted by a session salted to the
 * parent's key (@px, @py), so it never crosses the bus in the clear; if
 * that session cannot be had (no ecdh-nist-p256), it is sent in the clear
 * and the kernel log says so.
 */
static int attestio_ksk_create(struct tpm_chip *chip, u32 parent,
			       const u8 *pname, const u8 *px, const u8 *py,
			       u8 *priv, u16 *priv_len)
{
	struct attestio_tpm2_auth auths[2] = { { 0 }, { 0 } };
	struct attestio_tpm2_sess salted;
	u8 skey[SHA256_DIGEST_SIZE];
	unsigned int nauth = 1;
	struct attestio_tpm2_created out;
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	const u8 *area;
	u16 area_len;
	u8 tmpl[64];
	u32 attrs;
	int tlen, len, ret;

	tlen = attestio_tpm2_ksk_template(tmpl, sizeof(tmpl));
	if (tlen < 0)
		return tlen;
	ret = attestio_salt_session(chip, attestio_ksk.buf, parent, px, py,
				    &salted, skey);
	if (!ret) {
		get_random_bytes(salted.nonce_caller,
				 sizeof(salted.nonce_caller));
		salted.attrs = ATTESTIO_TPM2_SA_DECRYPT;	/* then flushed */
		auths[1].sess = &salted;
		auths[1].auth = skey;
		auths[1].auth_len = sizeof(skey);
		nauth = 2;
	} else {
		pr_warn("no salted session (%d): the session key's authValue crosses the TPM bus in the clear\n",
			ret);
	}
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_CREATE, auths, nauth);
	/* cpHash (salted session) covers the parent's name */
	attestio_tpm2_cmd_handle(&c, parent, pname, ATTESTIO_TPM2_NAME_LEN);
	/* inSensitive: userAuth = the KSK's authValue, data "" */
	attestio_tpm2_cmd_u16(&c, 2 + ATTESTIO_TPM2_AUTH_LEN + 2);
	attestio_tpm2_cmd_2b(&c, attestio_ksk.auth, ATTESTIO_TPM2_AUTH_LEN);
	attestio_tpm2_cmd_u16(&c, 0);
	attestio_tpm2_cmd_2b(&c, tmpl, tlen);
	attestio_tpm2_cmd_u16(&c, 0);		/* outsideInfo */
	attestio_tpm2_cmd_u32(&c, 0);		/* creationPCR */
	ret = nauth == 2 ? attestio_salt_encrypt_param1(&c, &salted, skey) : 0;
	len = ret ? ret : attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_CREATE, 0, auths, nauth,
				&rsp);
	memzero_explicit(skey, sizeof(skey));
	/* the command held the authValue: do not leave it in the buffer */
	if (ret) {
		if (nauth == 2)
			attestio_ksk_flush(chip, salted.handle);
		goto out_wipe;
	}
	ret = attestio_tpm2_create_parse(&rsp, &out);
	if (ret)
		goto out_wipe;
	ret = attestio_tpm2_public_parse(out.pub, out.pub_len, &attrs, &area,
					 &area_len);
	/* what we asked for, up to the unique field the TPM filled in */
	if (ret || attrs != ATTESTIO_KSK_ATTRS || area_len < tlen ||
	    memcmp(area, tmpl, tlen - 4)) {
		ret = -EBADMSG;
		goto out_wipe;
	}
	memcpy(attestio_ksk.pub, out.pub, out.pub_len);
	attestio_ksk.pub_len = out.pub_len;
	memcpy(priv, out.priv, out.priv_len);
	*priv_len = out.priv_len;
out_wipe:
	memzero_explicit(attestio_ksk.buf, PAGE_SIZE);
	return ret;
}

/* TPM2_Load of the KSK; its name must be the name of its public area. */
static int attestio_ksk_load(struct tpm_chip *chip, u32 parent,
			     const u8 *priv, u16 priv_len)
{
	struct attestio_tpm2_auth pw = { 0 };
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	const u8 *name;
	u16 name_len;
	int len, ret;

	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_LOAD, &pw, 1);
	attestio_tpm2_cmd_handle(&c, parent, NULL, 0);
	attestio_tpm2_cmd_bytes(&c, priv, priv_len);
	attestio_tpm2_cmd_bytes(&c, attestio_ksk.pub, attestio_ksk.pub_len);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_LOAD, 1, &pw, 1, &rsp);
	if (ret)
		return ret;
	ret = attestio_tpm2_name_parse(&rsp, &name, &name_len);
	if (ret)
		return ret;
	attestio_tpm2_name(attestio_ksk.pub + 2, attestio_ksk.pub_len - 2,
			   attestio_ksk.name);
	if (rsp.handles[0] >> 24 != ATTESTIO_TPM2_HT_TRANSIENT ||
	    name_len != ATTESTIO_TPM2_NAME_LEN ||
	    memcmp(name, attestio_ksk.name, ATTESTIO_TPM2_NAME_LEN)) {
		attestio_ksk_flush(chip, rsp.handles[0]);
		return -EBADMSG;
	}
	attestio_ksk.handle = rsp.handles[0];
	return 0;
}

static void attestio_ksk_error(u32 step, int rc)
{
	struct attestio_mev_error ev = {
		.step = cpu_to_le32(step),
		.rc = cpu_to_le32(rc),
	};

	pr_err("cannot create the kernel session key (step %u, %s%x)\n", step,
	       rc < 0 ? "-" : "0x", rc < 0 ? -rc : rc);
	attestio_mlog_measure(ATTESTIO_MEV_KEY_ERROR, &ev, sizeof(ev), NULL, 0);
}

/*
 * Create, load and register the KSK.  Called once, at load: a second key
 * in one boot would be a second registration, which verifiers reject.
 */
static void attestio_ksk_register(struct tpm_chip *chip)
{
	u8 priv[2 + ATTESTIO_TPM2_PRIVATE_MAX], px[32], py[32];
	u8 pname[ATTESTIO_TPM2_NAME_LEN];
	u16 priv_len = 0;
	u32 parent;
	int ret;

	get_random_bytes(attestio_ksk.auth, sizeof(attestio_ksk.auth));
	/* the TPM strips trailing zeros from an authValue: keep all 32 */
	attestio_ksk.auth[ATTESTIO_TPM2_AUTH_LEN - 1] |= 1;

	ret = attestio_ksk_parent(chip, &parent, px, py, pname);
	if (ret) {
		attestio_ksk_error(ATTESTIO_KSK_STEP_CREATE, ret);
		return;
	}
	ret = attestio_ksk_create(chip, parent, pname, px, py, priv,
				  &priv_len);
	if (ret) {
		attestio_ksk_error(ATTESTIO_KSK_STEP_CREATE, ret);
		goto out_flush_parent;
	}
	ret = attestio_ksk_load(chip, parent, priv, priv_len);
	if (ret) {
		attestio_ksk_error(ATTESTIO_KSK_STEP_LOAD, ret);
		goto out_flush_parent;
	}
	pr_info("kernel session key loaded at 0x%08x\n", attestio_ksk.handle);
	ret = attestio_ksk_save(chip);
	if (ret) {
		attestio_ksk_error(ATTESTIO_KSK_STEP_SESSION, ret);
		goto out_flush_parent;
	}
	/* unregistered, the key is useless to verifiers: do not use it */
	if (attestio_mlog_measure(ATTESTIO_MEV_KEY, attestio_ksk.pub,
				  attestio_ksk.pub_len, NULL, 0))
		goto out_flush_parent;
	attestio_ksk.have_key = true;
	pr_info("kernel session key registered in PCR %d\n",
		ATTESTIO_MLOG_PCR);
out_flush_parent:
	attestio_ksk_flush(chip, parent);
	memzero_explicit(priv, sizeof(priv));
}

/* TPM2_ReadPublic of the enrolled key: its name, checked, and attributes. */
static int attestio_ksk_ak_name(struct tpm_chip *chip, u32 ak, u8 *name,
				u32 *attrs)
{
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	const u8 *pub, *area, *tname;
	u16 pub_len, area_len, tname_len;
	int len, ret;

	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_READ_PUBLIC, NULL, 0);
	attestio_tpm2_cmd_handle(&c, ak, NULL, 0);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_READ_PUBLIC, 0, NULL, 0, &rsp);
	if (ret)
		return ret;
	ret = attestio_tpm2_read_public_parse(&rsp, &pub, &pub_len, &tname,
					      &tname_len);
	if (!ret)
		ret = attestio_tpm2_public_parse(pub, pub_len, attrs, &area,
						 &area_len);
	if (ret)
		return ret;
	attestio_tpm2_name(area, area_len, name);
	if (tname_len != ATTESTIO_TPM2_NAME_LEN ||
	    memcmp(tname, name, ATTESTIO_TPM2_NAME_LEN))
		return -EBADMSG;
	return 0;
}

/*
 * Satisfy the enrolled key's policy for TPM2_Certify in session @sess:
 * PolicyCommandCode(TPM2_Certify), then PolicyOR over both branches.
 */
static int attestio_ksk_policy_certify(struct tpm_chip *chip, u32 sess)
{
	u8 branches[2][SHA256_DIGEST_SIZE], policy[SHA256_DIGEST_SIZE];
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	int len, ret;

	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_POLICY_COMMAND_CODE, NULL, 0);
	attestio_tpm2_cmd_handle(&c, sess, NULL, 0);
	attestio_tpm2_cmd_u32(&c, ATTESTIO_TPM2_CC_CERTIFY);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_POLICY_COMMAND_CODE, 0, NULL,
				0, &rsp);
	if (ret)
		return ret;
	attestio_tpm2_ak_policy(branches, policy);
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_POLICY_OR, NULL, 0);
	attestio_tpm2_cmd_handle(&c, sess, NULL, 0);
	attestio_tpm2_cmd_u32(&c, 2);
	attestio_tpm2_cmd_2b(&c, branches[0], SHA256_DIGEST_SIZE);
	attestio_tpm2_cmd_2b(&c, branches[1], SHA256_DIGEST_SIZE);
	len = attestio_tpm2_cmd_finish(&c);
	return len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_POLICY_OR, 0, NULL, 0, &rsp);
}

/*
 * TPM2_Certify of the KSK by the enrolled key @ak, measured as
 * ATTESTIO_MEV_CERT.  An enrolled key provisioned by attestio can only
 * certify or activate credentials (attestio_tpm2_ak_policy()); an older
 * one with userWithAuth is authorized by an empty password.
 */
static int attestio_ksk_certify(struct tpm_chip *chip, u32 ak)
{
	struct attestio_tpm2_auth auths[2] = { { 0 }, { 0 } };
	struct attestio_tpm2_sess policy;
	struct attestio_quote_resp q = { 0 };
	struct attestio_mev_cert ev;
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	u8 ak_name[ATTESTIO_TPM2_NAME_LEN], qdata[SHA256_DIGEST_SIZE];
	__le64 inst = cpu_to_le64(attestio_instance);
	struct sha256_state st;
	bool have_policy = false;
	u32 attrs;
	int len, ret;

	lockdep_assert_held(&attestio_ksk.lock);
	ret = attestio_ksk_ak_name(chip, ak, ak_name, &attrs);
	if (ret)
		return ret;
	if (!(attrs & ATTESTIO_TPMA_USERWITHAUTH)) {
		ret = attestio_ksk_start_session(chip, &policy, true);
		if (ret)
			return ret;
		have_policy = true;
		ret = attestio_ksk_policy_certify(chip, policy.handle);
		if (ret)
			goto out_flush_policy;
		get_random_bytes(policy.nonce_caller,
				 sizeof(policy.nonce_caller));
		auths[1].sess = &policy;
	}
	ret = attestio_ksk_get(chip);
	if (ret)
		goto out_flush_policy;

	sha256_init(&st);
	sha256_update(&st, attestio_tag_ksk, ATTESTIO_TAG_LEN);
	sha256_update(&st, (const u8 *)&inst, sizeof(inst));
	sha256_update(&st, attestio_ksk.name, ATTESTIO_TPM2_NAME_LEN);
	sha256_final(&st, qdata);

	attestio_ksk_auth(&auths[0]);
	attestio_tpm2_cmd_init(&c, attestio_ksk.buf, PAGE_SIZE,
			       ATTESTIO_TPM2_CC_CERTIFY, auths, 2);
	attestio_tpm2_cmd_handle(&c, attestio_ksk.handle, attestio_ksk.name,
				 ATTESTIO_TPM2_NAME_LEN);
	attestio_tpm2_cmd_handle(&c, ak, ak_name, ATTESTIO_TPM2_NAME_LEN);
	attestio_tpm2_cmd_2b(&c, qdata, sizeof(qdata));
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_NULL);
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, attestio_ksk.buf, len,
				ATTESTIO_TPM2_CC_CERTIFY, 0, auths, 2, &rsp);
	attestio_ksk_put(chip, ret);
	if (ret)
		goto out_flush_policy;
	have_policy = false;	/* not continued: the TPM flushed it */
	ret = attestio_tpm2_attest_params(rsp.params, rsp.plen,
					  ATTESTIO_TPM2_ST_ATTEST_CERTIFY, &q);
	if (ret || q.extra_len != sizeof(qdata) ||
	    memcmp(q.extra, qdata, sizeof(qdata)) ||
	    q.cert_name_len != ATTESTIO_TPM2_NAME_LEN ||
	    memcmp(q.cert_name, attestio_ksk.name, ATTESTIO_TPM2_NAME_LEN))
		return -EBADMSG;
	ev.ak_handle = cpu_to_le32(ak);
	ev.attest_len = cpu_to_le16(q.attest_len);
	ev.sig_len = cpu_to_le16(q.sig_len);
	/* the log copies attest and sig out of the buffer before reuse */
	if (sizeof(ev) + q.attest_len + q.sig_len > ATTESTIO_MEVENT_MAX_LEN)
		return -EMSGSIZE;
	return attestio_mlog_measure(ATTESTIO_MEV_CERT, &ev, sizeof(ev),
				     q.attest, q.attest_len + q.sig_len);

out_flush_policy:
	if (have_policy)
		attestio_ksk_flush(chip, policy.handle);
	return ret;
}

/*
 * One TPM2_Quote by the KSK over @digest, in @q->buf.  Certifies the KSK
 * first whenever key_handle names a key that has not certified it yet.
 */
enum attestio_cp_status attestio_ksk_quote(struct tpm_chip *chip,
					   const u8 *digest,
					   struct attestio_quote *q)
{
	struct attestio_tpm2_auth auth;
	struct attestio_quote_resp resp = { 0 };
	struct attestio_tpm2_cmd c;
	struct attestio_tpm2_rsp rsp;
	enum attestio_cp_status status = ATTESTIO_CP_TPM_ERROR;
	int len, ret;

	mutex_lock(&attestio_ksk.lock);
	if (!attestio_ksk.have_key) {
		q->tpm_rc = -ENOKEY;
		goto out_unlock;
	}
	if (attestio_ksk.cert_handle != q->ak_handle &&
	    attestio_ksk.cert_failed == q->ak_handle) {
		/*
		 * It failed at load, a moment ago: report that once rather
		 * than try again (an authorization failure counts towards the
		 * TPM's lockout; epoch.c then backs off before the next try).
		 */
		attestio_ksk.cert_failed = 0;
	} else if (attestio_ksk.cert_handle != q->ak_handle) {
		attestio_ksk.cert_rc = attestio_ksk_certify(chip, q->ak_handle);
		if (!attestio_ksk.cert_rc)
			attestio_ksk.cert_handle = q->ak_handle;
	}
	if (attestio_ksk.cert_handle != q->ak_handle) {
		q->tpm_rc = attestio_ksk.cert_rc;
		goto out_unlock;
	}
	ret = attestio_ksk_get(chip);
	if (ret) {
		q->tpm_rc = ret;
		status = ret > 0 ? ATTESTIO_CP_TPM_ERROR :
				   ATTESTIO_CP_BAD_RESPONSE;
		goto out_unlock;
	}
	attestio_ksk_auth(&auth);
	attestio_tpm2_cmd_init(&c, q->buf, PAGE_SIZE, ATTESTIO_TPM2_CC_QUOTE,
			       &auth, 1);
	attestio_tpm2_cmd_handle(&c, attestio_ksk.handle, attestio_ksk.name,
				 ATTESTIO_TPM2_NAME_LEN);
	attestio_tpm2_cmd_2b(&c, digest, ATTESTIO_HASH_LEN);
	attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_NULL);
	if (q->pcr_mask) {
		attestio_tpm2_cmd_u32(&c, 1);
		attestio_tpm2_cmd_u16(&c, ATTESTIO_TPM2_ALG_SHA256);
		attestio_tpm2_cmd_u8(&c, 3);
		attestio_tpm2_cmd_u8(&c, q->pcr_mask);
		attestio_tpm2_cmd_u8(&c, q->pcr_mask >> 8);
		attestio_tpm2_cmd_u8(&c, q->pcr_mask >> 16);
	} else {
		attestio_tpm2_cmd_u32(&c, 0);
	}
	len = attestio_tpm2_cmd_finish(&c);
	ret = len < 0 ? len : attestio_tpm_xfer(chip, q->buf, len,
				ATTESTIO_TPM2_CC_QUOTE, 0, &auth, 1, &rsp);
	attestio_ksk_put(chip, ret);
	if (ret) {
		q->tpm_rc = ret;
		status = ret > 0 ? ATTESTIO_CP_TPM_ERROR :
				   ATTESTIO_CP_BAD_RESPONSE;
		goto out_unlock;
	}
	ret = attestio_tpm2_attest_params(rsp.params, rsp.plen,
					  ATTESTIO_TPM2_ST_ATTEST_QUOTE, &resp);
	if (!ret && (resp.extra_len != ATTESTIO_HASH_LEN ||
		     memcmp(resp.extra, digest, ATTESTIO_HASH_LEN)))
		ret = -EBADMSG;	/* quote over something else */
	if (ret) {
		q->tpm_rc = ret;
		status = ATTESTIO_CP_BAD_RESPONSE;
		goto out_unlock;
	}
	q->attest = resp.attest;
	q->attest_len = resp.attest_len;
	q->sig = resp.sig;
	q->sig_len = resp.sig_len;
	status = ATTESTIO_CP_SIGNED;
out_unlock:
	mutex_unlock(&attestio_ksk.lock);
	return status;
}

/* Measure the load, then create and register the KSK (TPM 2.0 only). */
int attestio_ksk_init(void)
{
	struct attestio_mev_load ev = {
		.key_handle = cpu_to_le32(attestio_key_handle),
		.pcr_mask = cpu_to_le32(attestio_pcr_mask),
		.sign = cpu_to_le32(attestio_sign),
	};
	struct tpm_chip *chip;

	mutex_init(&attestio_ksk.lock);
	attestio_ksk.buf = (u8 *)__get_free_page(GFP_KERNEL);
	if (!attestio_ksk.buf)
		return -ENOMEM;
	strscpy(ev.version, ATTESTIO_VERSION, sizeof(ev.version));
	chip = tpm_default_chip();
	if (!chip)
		return 0;
	if (tpm_is_tpm2(chip) > 0 &&
	    !attestio_mlog_measure(ATTESTIO_MEV_LOAD, &ev, sizeof(ev), NULL,
				   0)) {
		mutex_lock(&attestio_ksk.lock);
		attestio_ksk_register(chip);
		/* certified before modprobe returns, when the key is known */
		if (attestio_ksk.have_key && attestio_key_handle) {
			attestio_ksk.cert_rc =
				attestio_ksk_certify(chip, attestio_key_handle);
			if (!attestio_ksk.cert_rc)
				attestio_ksk.cert_handle = attestio_key_handle;
			else
				attestio_ksk.cert_failed = attestio_key_handle;
		}
		mutex_unlock(&attestio_ksk.lock);
	}
	put_device(&chip->dev);
	return 0;
}

void attestio_ksk_uninit(void)
{
	struct tpm_chip *chip = tpm_default_chip();

	mutex_lock(&attestio_ksk.lock);
	/* a later load's key is then visibly not the first of this boot */
	if (chip && tpm_is_tpm2(chip) > 0)
		attestio_mlog_measure(ATTESTIO_MEV_UNLOAD, NULL, 0, NULL, 0);
	memzero_explicit(attestio_ksk.auth, sizeof(attestio_ksk.auth));
	memzero_explicit(attestio_ksk.ctx, sizeof(attestio_ksk.ctx));
	attestio_ksk.have_key = false;
	mutex_unlock(&attestio_ksk.lock);
	if (chip)
		put_device(&chip->dev);
	free_page((unsigned long)attestio_ksk.buf);
	mutex_destroy(&attestio_ksk.lock);
}
