/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Simulated gateways (attestio-sim, the oracle scenarios, the verifier's
 * tests and benchmark): genuine records built with the module's own pure
 * code (kernel/record.c) and checkpoints whose quote is a TPMS_ATTEST
 * marshalled with libtss2-mu and signed by a *software* P-256 key exactly
 * as a TPM would sign it.  Nothing here proves a TPM: the public half of
 * such a key is written with att_sim_write_ak() under the PEM label
 * "ATTESTIO SIMULATED PUBLIC KEY", which att_key_load() marks as simulated
 * (att_key_simulated()) and attestio-oracle admits only with
 * [node] allow_simulated = true.  No I/O but that key file.
 */
#ifndef LIBATTESTIO_SIM_H
#define LIBATTESTIO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define ATT_SIM_PEM_LABEL	"ATTESTIO SIMULATED PUBLIC KEY"
#define ATT_SIM_PCR_BYTE	0xab	/* default PCR digest: 32 x this */

/* One record chain (instance, stream, generation) being produced. */
struct att_sim_chain {
	uint64_t instance;
	uint32_t id;
	uint32_t gen;		/* generation: in the genesis and heads */
	uint64_t seq;
	uint8_t head[32];
	uint8_t st[64];		/* struct attestio_seg_state: what the head
				 * commits to besides the records (v4) */
	uint32_t segment;
};

/* How a quote is made; zero = a genuine quote of 32 x ATT_SIM_PCR_BYTE. */
struct att_sim_qopt {
	EVP_PKEY *key;		/* signer */
	uint64_t clock;
	uint32_t reset, restart;
	uint32_t magic;		/* 0: TPM_GENERATED_VALUE */
	uint16_t type;		/* 0: TPM_ST_ATTEST_QUOTE */
	bool bad_extra;		/* sign a wrong extraData */
	uint32_t status;	/* != 0: unsigned checkpoint (no quote) */
	uint8_t pcr_byte;	/* 0: ATT_SIM_PCR_BYTE */
	int late;		/* (includer's) samples between heads and quote */
	uint32_t pcr_mask;	/* 0: PCRs 0 and 7 (0x81) */
	const uint8_t *pcr_digest;	/* NULL: 32 x pcr_byte */
	const uint8_t *beacon;	/* 32 bytes the digest covers; NULL: none */
};

/* A prepared epoch: heads, quote and the checkpoint layout. */
struct att_sim_cp {
	uint64_t instance, epoch;
	uint32_t status, pcr_mask;
	uint16_t nheads;
	uint8_t beacon[32];	/* all zero: none */
	uint8_t heads[64 * 80];	/* struct attestio_cp_head[nheads] */
	uint8_t attest[1024], sig[1024];
	size_t alen, slen;
	uint32_t heads_off, attest_off, sig_off;
	uint32_t len;		/* each checkpoint record's length */
};

void att_sim_chain_init(struct att_sim_chain *s, uint64_t instance,
			uint32_t id, uint32_t gen);
/* Encode the header of @rec (payload filled) and chain it into @s.  0 or -1. */
int att_sim_finish(struct att_sim_chain *s, uint8_t *rec, uint16_t type,
		   uint32_t len, uint64_t boot_ns, uint64_t real_ns);

/* Record lengths; the writers fill a zeroed buffer of that length. */
uint32_t att_sim_desc_len(void);
uint32_t att_sim_sample_len(void);
/* A descriptor of one temperature channel (s16 LE, scale 10: milli degC). */
int att_sim_desc(struct att_sim_chain *s, uint8_t *rec, uint64_t boot_ns,
		 uint64_t real_ns);
int att_sim_sample(struct att_sim_chain *s, uint8_t *rec, int16_t v,
		   uint64_t boot_ns, uint64_t real_ns);

/* TPMT_SIGNATURE (ECDSA P-256, SHA-256) over @data.  0 or -1. */
int att_sim_tpm_sign(EVP_PKEY *key, const uint8_t *data, size_t len,
		     uint8_t *out, size_t cap, size_t *olen);
/* A TPM2_Quote over @digest: marshalled TPMS_ATTEST and TPMT_SIGNATURE. */
int att_sim_quote(const struct att_sim_qopt *q, const uint8_t digest[32],
		  uint8_t *attest, size_t acap, size_t *alen,
		  uint8_t *sig, size_t scap, size_t *slen);
/* Heads of @ns chains (sharing one instance) and the epoch's quote. */
int att_sim_cp_prepare(struct att_sim_cp *cp, struct att_sim_chain **ss, int ns,
		       uint64_t epoch, const struct att_sim_qopt *q);
/* Checkpoint record number @self of a prepared epoch, chained into @s. */
int att_sim_cp_write(const struct att_sim_cp *cp, struct att_sim_chain *s,
		     int self, uint8_t *rec, uint64_t boot_ns, uint64_t real_ns);

/* Write @key's public half to @path, labelled as simulated.  0 or -1. */
int att_sim_write_ak(EVP_PKEY *key, const char *path);

#endif
