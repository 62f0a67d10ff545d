/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not
 * SHA3-256's 0x06) and Ethereum addresses of secp256k1 keys: what an EVM
 * contract's ecrecover returns.  No I/O.
 */
#ifndef ATTESTIO_ORACLE_KECCAK_H
#define ATTESTIO_ORACLE_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define ORACLE_ADDR_LEN	20

void oracle_keccak256(const void *data, size_t len, uint8_t out[32]);
/* Last 20 bytes of Keccak-256(X || Y) of a 65-byte uncompressed key. */
void oracle_eth_address(const uint8_t pub[65], uint8_t addr[ORACLE_ADDR_LEN]);

#endif
