// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Keccak-f[1600] and the Keccak-256 sponge (rate 136 bytes), written from
 * the Keccak reference specification (FIPS 202 section 3 step mappings;
 * Ethereum keeps the pre-standard domain padding 0x01).
 */
#include <string.h>

#include "keccak.h"

#define RATE 136

static const uint64_t rc[24] = {
	0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808aull,
	0x8000000080008000ull, 0x000000000000808bull, 0x0000000080000001ull,
	0x8000000080008081ull, 0x8000000000008009ull, 0x000000000000008aull,
	0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000aull,
	0x000000008000808bull, 0x800000000000008bull, 0x8000000000008089ull,
	0x8000000000008003ull, 0x8000000000008002ull, 0x8000000000000080ull,
	0x000000000000800aull, 0x800000008000000aull, 0x8000000080008081ull,
	0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull,
};

/* Rotation offsets r[x][y] of the rho step, lane index x + 5y. */
static const unsigned int rho[25] = {
	0, 1, 62, 28, 27,
	36, 44, 6, 55, 20,
	3, 10, 43, 25, 39,
	41, 45, 15, 21, 8,
	18, 2, 61, 56, 14,
};

static uint64_t rotl(uint64_t v, unsigned int n)
{
	return n ? (v << n) | (v >> (64 - n)) : v;
}

static void keccak_f(uint64_t a[25])
{
	for (int round = 0; round < 24; round++) {
		uint64_t c[5], d[5], b[25];

		/* theta */
		for (int x = 0; x < 5; x++)
			c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
		for (int x = 0; x < 5; x++)
			d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
		for (int i = 0; i < 25; i++)
			a[i] ^= d[i % 5];
		/* rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y]) */
		for (int x = 0; x < 5; x++)
			for (int y = 0; y < 5; y++)
				b[y + 5 * ((2 * x + 3 * y) % 5)] =
					rotl(a[x + 5 * y], rho[x + 5 * y]);
		/* chi */
		for (int y = 0; y < 5; y++)
			for (int x = 0; x < 5; x++)
				a[x + 5 * y] = b[x + 5 * y] ^
					(~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
		/* iota */
		a[0] ^= rc[round];
	}
}

static void absorb(uint64_t a[25], const uint8_t *blk)
{
	for (int i = 0; i < RATE / 8; i++) {
		uint64_t v = 0;

		for (int k = 7; k >= 0; k--)
			v = v << 8 | blk[8 * i + k];	/* lanes are little-endian */
		a[i] ^= v;
	}
	keccak_f(a);
}

void oracle_keccak256(const void *data, size_t len, uint8_t out[32])
{
	const uint8_t *p = data;
	uint64_t a[25] = { 0 };
	uint8_t last[RATE];

	for (; len >= RATE; p += RATE, len -= RATE)
		absorb(a, p);
	memset(last, 0, sizeof(last));
	if (len)
		memcpy(last, p, len);
	last[len] ^= 0x01;
	last[RATE - 1] ^= 0x80;
	absorb(a, last);
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

void oracle_eth_address(const uint8_t pub[65], uint8_t addr[ORACLE_ADDR_LEN])
{
	uint8_t h[32];

	oracle_keccak256(pub + 1, 64, h);
	memcpy(addr, h + 12, ORACLE_ADDR_LEN);
}
