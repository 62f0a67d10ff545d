// SPDX-License-Identifier: GPL-2.0
// Settle a TemperatureOption on the in-process EVM with final reports made
// by real attestio-oracle nodes (tests/oracle/run.sh exports them with
// `attestio-oracle final`), and compare with `attestio settle` on the same
// files, to the wei.  Not a *.test.js: it needs the oracle scenario's
// reports.  Environment:
//   ATTESTIO_DESC     settle's description file (contract-params + terms)
//   ATTESTIO_REPORTS  the final report files, space separated, in any order
//   ATTESTIO_EXPECT   "settled" or "refund": the outcome both must reach
// Prints one line "node-reports: ..." and exits 0 only if every report is
// accepted by the verifier and both sides reach the same outcome and payout.
import { readFileSync } from 'node:fs';

import { Chain, compile, DAY, T0 } from './evm.js';
import { gov, buyer, seller, keeper, settleOffchain } from './fixtures.js';

function fail(msg) {
	console.log(`node-reports: FAIL ${msg}`);
	process.exit(1);
}

const descFile = process.env.ATTESTIO_DESC;
const files = (process.env.ATTESTIO_REPORTS || '').split(/\s+/).filter(Boolean);
const expect = process.env.ATTESTIO_EXPECT || 'settled';
if (!descFile || !files.length)
	fail('ATTESTIO_DESC and ATTESTIO_REPORTS are required');

const d = { signer: [] };
for (const raw of readFileSync(descFile, 'utf8').split('\n')) {
	const l = raw.replace(/#.*/, '').trim();
	if (!l)
		continue;
	const m = /^(\w+)\s*=\s*(\S+)$/.exec(l);
	if (!m)
		fail(`${descFile}: bad line: ${raw}`);
	if (m[1] === 'signer')
		d.signer.push(m[2]);
	else
		d[m[1]] = m[2];
}

// liboracle's final report (protocol.md "Final report"), strictly:
// a2 01 58 e0 <core 224> 02 <array of n> (58 41 <sig 65>) x n
function parseFinal(file) {
	const b = readFileSync(file);
	const hex = (x) => '0x' + Buffer.from(x).toString('hex');
	if (b[0] !== 0xa2 || b[1] !== 0x01 || b[2] !== 0x58 || b[3] !== 0xe0 || b[228] !== 0x02)
		fail(`${file}: not a final report`);
	let p = 229;
	let n;
	if (b[p] >= 0x80 && b[p] <= 0x97)
		n = b[p++] - 0x80;
	else if (b[p] === 0x98)
		n = b[p + 1], p += 2;
	else
		fail(`${file}: bad signature array`);
	const sigs = [];
	for (let i = 0; i < n; i++, p += 67) {
		if (b[p] !== 0x58 || b[p + 1] !== 0x41)
			fail(`${file}: bad signature ${i}`);
		sigs.push(b.subarray(p + 2, p + 67));
	}
	if (p !== b.length)
		fail(`${file}: trailing bytes`);
	const core = b.subarray(4, 228);
	// round: the core's second word (abi.encode(feedId, round, ...))
	const round = BigInt('0x' + core.subarray(32, 64).toString('hex'));
	return { file, core: hex(core), sigs: hex(Buffer.concat(sigs)), round };
}

const reports = files.map(parseFinal).sort((a, b) => (a.round < b.round ? -1 : a.round > b.round ? 1 : 0));
const terms = {
	feedId: d.feed_id, decimals: Number(d.decimals),
	firstRound: BigInt(d.first_round), lastRound: BigInt(d.last_round),
	extensionRounds: BigInt(d.extension_rounds), minRounds: BigInt(d.min_rounds),
	strike: BigInt(d.strike), notional: BigInt(d.notional),
	buyer: buyer.hex, seller: seller.hex,
	buyerDeposit: BigInt(d.buyer_deposit), sellerDeposit: BigInt(d.seller_deposit),
	depositDeadline: T0 + DAY, expiry: T0 + 10n * DAY, extensionTime: 3n * DAY,
};

const chain = await Chain.create();
const art = await compile();
const verifier = await chain.deploy(gov, art.verifier,
	[gov.hex, DAY, d.signer, Number(d.f), d.config_digest]);
const opt = await chain.deploy(gov, art.option, [verifier.hex, terms]);
await opt.tx(buyer, 'deposit', [], terms.buyerDeposit);
await opt.tx(seller, 'deposit', [], terms.sellerDeposit);
for (const r of reports) {
	try {
		await opt.tx(keeper, 'submit', [r.core, r.sigs]);
	} catch (e) {
		fail(`${r.file} (round ${r.round}) rejected by the contract: ${e.errorName || e.message}`);
	}
}
chain.now = terms.expiry;
await opt.tx(keeper, 'settle');
if (await opt.call('state') === 2n) {	// Extended: no more reports; the deadline
	chain.now = terms.expiry + terms.extensionTime;
	await opt.tx(keeper, 'settle');
}
const state = await opt.call('state');
const on = {
	result: { 3n: 'settled', 4n: 'refund' }[state] || `state ${state}`,
	buyer: await opt.call('buyerPayout'),
	seller: await opt.call('sellerPayout'),
	settled: await opt.call('settledCount'),
	halted: await opt.call('haltedCount'),
	mean: state === 3n ? await opt.call('finalMean') : null,
};
const off = settleOffchain(descFile, reports);
if (!off.out)
	fail(`attestio settle exit ${off.status}: ${off.stderr.trim()}`);
const same = on.result === off.out.result && on.buyer === BigInt(off.out.buyer) &&
	on.seller === BigInt(off.out.seller) &&
	(on.mean === null || on.mean === BigInt(off.out.mean));
const line = `${reports.length} reports (rounds ${reports[0].round}..${reports.at(-1).round}), ` +
	`contract: ${on.result} ${on.settled} settled ${on.halted} halted` +
	`${on.mean === null ? '' : ` mean ${on.mean}`} buyer ${on.buyer} seller ${on.seller} wei; ` +
	`attestio settle (exit ${off.status}): ${off.out.result}` +
	`${off.out.mean === undefined ? '' : ` mean ${off.out.mean}`} buyer ${off.out.buyer} seller ${off.out.seller}`;
if (!same)
	fail(`payouts differ: ${line}`);
if (on.result !== expect)
	fail(`expected ${expect}: ${line}`);
console.log(`node-reports: ok ${line}`);
