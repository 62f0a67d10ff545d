// SPDX-License-Identifier: GPL-2.0
// Fixtures shared by the contract tests and the gas bench: oracle node
// keys, reports signed by liboracle (tests/contracts/mkreport), deployed
// verifier and option, and `attestio settle` run on the same reports.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

import { Chain, account, attestio, compile, cSign, DAY, T0 } from './evm.js';

// Node secret keys in an oracle node's config form ([node] key = 64 hex).
export function nodeKey(i) {
	return (0x5e0000 + i).toString(16).padStart(64, '0');
}

const addrCache = new Map();
export function nodeAddresses(idx) {
	const k = idx.join(',');
	if (!addrCache.has(k))
		addrCache.set(k, cSign(['addr', ...idx.flatMap((i) => ['--key', nodeKey(i)])]).addresses);
	return addrCache.get(k);
}

export const FEED = '0x' + 'f1'.repeat(32);
export const CONFIG = '0x' + 'c0'.repeat(32);
export const CONFIG2 = '0x' + 'c2'.repeat(32);

let tmp;
export function tmpDir() {
	if (!tmp)
		tmp = mkdtempSync(join(tmpdir(), 'attestio-contracts-'));
	return tmp;
}

let nfile = 0;
// A final report signed by the nodes `signers` (liboracle, as nodes sign);
// also written as a CBOR final report file (r.file).
export function report({ signers = [1, 2], feed = FEED, config = CONFIG, round,
	value = 0, decimals = 2, status = 0 }) {
	const file = join(tmpDir(), `r${nfile++}.cbor`);
	const r = cSign(['sign', ...signers.flatMap((i) => ['--key', nodeKey(i)]),
		'--feed', feed, '--config', config, '--round', String(round),
		'--value', String(value), '--decimals', String(decimals),
		'--status', String(status), '--out', file]);
	return { ...r, file, round, value, status };
}

export const gov = account(1);
export const buyer = account(2);
export const seller = account(3);
export const keeper = account(4);

// A chain with a verifier over nodes 1..n (f given), rotation delay 1 day.
export async function setup({ n = 4, f = 1, config = CONFIG } = {}) {
	const chain = await Chain.create();
	const idx = Array.from({ length: n }, (_, i) => i + 1);
	const verifier = await chain.deploy(gov, (await compile()).verifier,
		[gov.hex, DAY, nodeAddresses(idx), f, config]);
	return { chain, verifier, idx };
}

export function defaultTerms(over = {}) {
	return {
		feedId: FEED, decimals: 2, firstRound: 1n, lastRound: 4n,
		extensionRounds: 2n, minRounds: 3n, strike: 1800n,
		notional: 10n ** 15n, buyer: buyer.hex, seller: seller.hex,
		buyerDeposit: 10n ** 17n, sellerDeposit: 10n ** 18n,
		depositDeadline: T0 + DAY, expiry: T0 + 10n * DAY, extensionTime: 3n * DAY,
		...over,
	};
}

export async function deployOption(chain, verifier, terms) {
	return chain.deploy(gov, (await compile()).option, [verifier.hex, terms]);
}

export async function funded(chain, verifier, terms) {
	const opt = await deployOption(chain, verifier, terms);
	await opt.tx(buyer, 'deposit', [], terms.buyerDeposit);
	await opt.tx(seller, 'deposit', [], terms.sellerDeposit);
	return opt;
}

// The description file `attestio settle` reads, for these terms and set.
export function describe(terms, { f = 1, signers = [1, 2, 3, 4], config = CONFIG } = {}) {
	const lines = [
		`feed_id = ${terms.feedId}`, `decimals = ${terms.decimals}`,
		`first_round = ${terms.firstRound}`, `last_round = ${terms.lastRound}`,
		`extension_rounds = ${terms.extensionRounds}`, `min_rounds = ${terms.minRounds}`,
		`strike = ${terms.strike}`, `notional = ${terms.notional}`,
		`buyer_deposit = ${terms.buyerDeposit}`, `seller_deposit = ${terms.sellerDeposit}`,
		`config_digest = ${config}`, `f = ${f}`,
		...nodeAddresses(signers).map((a) => `signer = ${a}`),
	];
	const file = join(tmpDir(), `option${nfile++}.conf`);
	writeFileSync(file, lines.join('\n') + '\n');
	return file;
}

// Run `attestio settle --json`; returns { status, out (parsed JSON), stderr }.
export function settleOffchain(descFile, reports, extra = []) {
	const r = spawnSync(attestio, ['settle', '--contract', descFile, '--json', ...extra,
		...reports.map((x) => x.file)], { encoding: 'utf8' });
	let out = null;
	try {
		out = JSON.parse(r.stdout);
	} catch {
		out = null;
	}
	return { status: r.status, out, stdout: r.stdout, stderr: r.stderr };
}

export async function at(chain, t) {
	chain.now = t;
}
