// SPDX-License-Identifier: GPL-2.0
// TemperatureOption on an in-process EVM: economics at, below and above the
// strike, halted rounds, the written fallback, funding, the calldata that
// `attestio settle --evm` emits, and the same payout to the unit from
// `attestio settle` for the same signed reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { RevertError, DAY, T0 } from './evm.js';
import {
	setup, report, buyer, seller, keeper, funded, deployOption, defaultTerms,
	describe, settleOffchain, tmpDir,
} from './fixtures.js';

const State = { Funding: 0n, Active: 1n, Extended: 2n, Settled: 3n, Refunded: 4n };

async function rejects(p, name) {
	await assert.rejects(p, (e) => {
		assert.ok(e instanceof RevertError, `not a revert: ${e}`);
		assert.equal(e.errorName, name, e.message);
		return true;
	});
}

// Submit each report through the option (anyone may).
async function submitAll(opt, reports) {
	for (const r of reports)
		await opt.tx(keeper, 'submit', [r.core, r.sigs]);
}

// Settle on chain after expiry and compare with `attestio settle`.
async function settleBoth(chain, opt, terms, reports) {
	chain.now = terms.expiry;
	await opt.tx(keeper, 'settle');
	const onchain = {
		state: await opt.call('state'),
		buyer: await opt.call('buyerPayout'),
		seller: await opt.call('sellerPayout'),
		mean: await opt.call('finalMean'),
	};
	const off = settleOffchain(describe(terms), reports);
	return { onchain, off };
}

function values(vals, first = 1) {
	return vals.map((v, i) => report({ signers: [1 + (i % 4), 1 + ((i + 1) % 4)],
		round: first + i, value: v }));
}

async function economics(vals, terms = defaultTerms()) {
	const { chain, verifier } = await setup();
	const opt = await funded(chain, verifier, terms);
	const reports = values(vals);
	await submitAll(opt, reports);
	const r = await settleBoth(chain, opt, terms, reports);
	assert.equal(r.onchain.state, State.Settled);
	assert.equal(r.off.status, 0, r.off.stderr);
	assert.equal(r.off.out.result, 'settled');
	// the same numbers, to the unit
	assert.equal(BigInt(r.off.out.buyer), r.onchain.buyer);
	assert.equal(BigInt(r.off.out.seller), r.onchain.seller);
	assert.equal(BigInt(r.off.out.mean), r.onchain.mean);
	assert.equal(r.onchain.buyer + r.onchain.seller, terms.buyerDeposit + terms.sellerDeposit);
	return { ...r, chain, opt };
}

test('settles at the strike: mean == strike pays the buyer nothing', async () => {
	const { onchain } = await economics([1790, 1810, 1800, 1800]);
	assert.equal(onchain.mean, 1800n);
	assert.equal(onchain.buyer, 0n);
});

test('settles just below the strike: nothing for the buyer', async () => {
	const { onchain } = await economics([1799, 1799, 1799, 1799]);
	assert.equal(onchain.mean, 1799n);
	assert.equal(onchain.buyer, 0n);
});

test('settles just above the strike: one unit of notional for the buyer', async () => {
	const t = defaultTerms();
	const { onchain } = await economics([1801, 1801, 1802, 1800]);
	assert.equal(onchain.mean, 1801n);
	assert.equal(onchain.buyer, t.notional);
	assert.equal(onchain.seller, t.buyerDeposit + t.sellerDeposit - t.notional);
});

test('a large excess is capped at the pool', async () => {
	const t = defaultTerms();
	const { onchain } = await economics([4000, 4100, 4200, 4300]);
	assert.equal(onchain.buyer, t.buyerDeposit + t.sellerDeposit);
	assert.equal(onchain.seller, 0n);
});

test('a negative mean truncates toward zero on chain and off chain alike', async () => {
	// (-5 - 6 - 6) / 3 = -5.67: truncation gives -5 (floor would give -6)
	const t = defaultTerms({ strike: -6n, minRounds: 3n, lastRound: 3n });
	const { onchain } = await economics([-5, -6, -6], t);
	assert.equal(onchain.mean, -5n);
	assert.equal(onchain.buyer, t.notional);
});

test('payouts are pulled: withdraw pays each party its share once', async () => {
	const t = defaultTerms();
	const { chain, opt, onchain } = await economics([1850, 1850, 1850, 1850]);
	const b0 = await chain.balance(buyer.address);
	const w = await opt.tx(buyer, 'withdraw');
	assert.equal(await chain.balance(buyer.address), b0 + onchain.buyer - w.gas);
	await rejects(opt.tx(buyer, 'withdraw'), 'NothingToWithdraw');
	await opt.tx(seller, 'withdraw');
	assert.equal(await chain.balance(opt.address), 0n);
	assert.equal(onchain.buyer, 50n * t.notional);
});

test('a halted round is never used as a value', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms({ minRounds: 3n });
	const opt = await funded(chain, verifier, terms);
	// round 2 halted (disagree) carries the median it computed: 9000
	const reports = [
		report({ round: 1, value: 1810 }),
		report({ round: 2, value: 9000, status: 4 }),
		report({ round: 3, value: 1820 }),
		report({ round: 4, value: 1830 }),
	];
	await submitAll(opt, reports);
	assert.equal(await opt.call('haltedCount'), 1n);
	assert.equal(await opt.call('settledCount'), 3n);
	const r = await settleBoth(chain, opt, terms, reports);
	assert.equal(r.onchain.mean, 1820n);
	assert.equal(r.onchain.buyer, 20n * terms.notional);
	assert.equal(BigInt(r.off.out.buyer), r.onchain.buyer);
	assert.equal(r.off.out.halted_rounds, 1);
});

test('all rounds halted: the window extends once, then both are refunded', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms();
	const opt = await funded(chain, verifier, terms);
	const reports = [1, 2, 3, 4].map((round) => report({ round, value: 1900, status: 1 }));
	await submitAll(opt, reports);
	await rejects(opt.tx(keeper, 'settle'), 'NotYet');
	chain.now = terms.expiry;
	await opt.tx(keeper, 'settle');
	assert.equal(await opt.call('state'), State.Extended);
	assert.equal(await opt.call('windowEnd'), 6n);
	const more = [5, 6].map((round) => report({ round, value: 1900, status: 6 }));
	await submitAll(opt, more);
	await rejects(opt.tx(keeper, 'settle'), 'NotYet');
	chain.now = terms.expiry + terms.extensionTime;
	await opt.tx(keeper, 'settle');
	assert.equal(await opt.call('state'), State.Refunded);
	assert.equal(await opt.call('credit', [buyer.hex]), terms.buyerDeposit);
	assert.equal(await opt.call('credit', [seller.hex]), terms.sellerDeposit);
	const off = settleOffchain(describe(terms), [...reports, ...more]);
	assert.equal(off.status, 6, off.stderr);
	assert.equal(off.out.result, 'refund');
	assert.equal(BigInt(off.out.buyer), terms.buyerDeposit);
	assert.equal(BigInt(off.out.seller), terms.sellerDeposit);
	await opt.tx(buyer, 'withdraw');
	await opt.tx(seller, 'withdraw');
	assert.equal(await chain.balance(opt.address), 0n);
});

test('too few settled rounds in the window: the extension rounds settle it', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms();
	const opt = await funded(chain, verifier, terms);
	const reports = [
		report({ round: 1, value: 1700 }), report({ round: 2, value: 0, status: 5 }),
		report({ round: 3, value: 0, status: 5 }), report({ round: 4, value: 1900 }),
	];
	await submitAll(opt, reports);
	// round 5 is outside the window until the extension
	const r5 = report({ round: 5, value: 2000 });
	await rejects(opt.tx(keeper, 'submit', [r5.core, r5.sigs]), 'OutsideWindow');
	// anyone may still hand it to the verifier, which stores it
	await verifier.tx(keeper, 'verify', [r5.core, r5.sigs]);
	await rejects(opt.tx(keeper, 'record', [5n]), 'OutsideWindow');
	chain.now = terms.expiry;
	await opt.tx(keeper, 'settle');
	assert.equal(await opt.call('state'), State.Extended);
	// now in the window: recorded from the verifier's storage
	await rejects(opt.tx(keeper, 'submit', [r5.core, r5.sigs]), 'StaleRound');
	await opt.tx(keeper, 'record', [5n]);
	chain.now = terms.expiry + terms.extensionTime;
	await opt.tx(keeper, 'settle');
	assert.equal(await opt.call('state'), State.Settled);
	const mean = await opt.call('finalMean');
	assert.equal(mean, (1700n + 1900n + 2000n) / 3n);
	const off = settleOffchain(describe(terms), [...reports, r5]);
	assert.equal(off.status, 0, off.stderr);
	assert.equal(off.out.result, 'settled-extended');
	assert.equal(BigInt(off.out.buyer), await opt.call('buyerPayout'));
	assert.equal(BigInt(off.out.mean), mean);
});

test('reports of another feed, other decimals or a round given twice are refused', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms();
	const opt = await funded(chain, verifier, terms);
	const other = report({ round: 1, feed: '0x' + 'f2'.repeat(32) });
	await rejects(opt.tx(keeper, 'submit', [other.core, other.sigs]), 'WrongFeed');
	const dec = report({ round: 2, decimals: 1 });
	await rejects(opt.tx(keeper, 'submit', [dec.core, dec.sigs]), 'WrongDecimals');
	const r = report({ round: 3, value: 1800 });
	await verifier.tx(keeper, 'verify', [r.core, r.sigs]);
	await opt.tx(keeper, 'record', [3n]);
	await rejects(opt.tx(keeper, 'record', [3n]), 'AlreadyRecorded');
	const off = settleOffchain(describe(terms), [r, r]);
	assert.equal(off.status, 1);
	assert.match(off.out.error, /twice/);
	const offFeed = settleOffchain(describe(terms), [other]);
	assert.equal(offFeed.status, 1);
	assert.match(offFeed.out.error, /feed/);
});

test('attestio settle refuses under-signed and foreign-signed reports', async () => {
	const terms = defaultTerms();
	const desc = describe(terms);
	const one = report({ round: 1, signers: [2] });
	let off = settleOffchain(desc, [one]);
	assert.equal(off.status, 1);
	assert.match(off.out.error, /fewer than t/);
	const foreign = report({ round: 1, signers: [1, 9] });
	off = settleOffchain(desc, [foreign]);
	assert.equal(off.status, 1);
	assert.match(off.out.error, /not in the oracle set/);
});

test('funding: exact amounts from the parties only, before the deadline', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms();
	const opt = await deployOption(chain, verifier, terms);
	await rejects(opt.tx(keeper, 'deposit', [], terms.buyerDeposit), 'NotParty');
	await rejects(opt.tx(buyer, 'deposit', [], terms.buyerDeposit - 1n), 'WrongAmount');
	await opt.tx(buyer, 'deposit', [], terms.buyerDeposit);
	await rejects(opt.tx(buyer, 'deposit', [], terms.buyerDeposit), 'AlreadyDeposited');
	await rejects(opt.tx(keeper, 'settle'), 'NotYet');
	chain.now = terms.depositDeadline;
	await rejects(opt.tx(seller, 'deposit', [], terms.sellerDeposit), 'DepositClosed');
	// the seller never came: the buyer's premium goes back
	await opt.tx(keeper, 'settle');
	assert.equal(await opt.call('state'), State.Refunded);
	assert.equal(await opt.call('credit', [buyer.hex]), terms.buyerDeposit);
	assert.equal(await opt.call('credit', [seller.hex]), 0n);
	await opt.tx(buyer, 'withdraw');
	assert.equal(await chain.balance(opt.address), 0n);
});

test('constructor refuses inconsistent terms', async () => {
	const { chain, verifier } = await setup();
	await rejects(deployOption(chain, verifier, defaultTerms({ minRounds: 5n })), 'BadTerms');
	await rejects(deployOption(chain, verifier, defaultTerms({ seller: buyer.hex })), 'BadTerms');
	await rejects(deployOption(chain, verifier,
		defaultTerms({ depositDeadline: T0 + 20n * DAY })), 'BadTerms');
	await rejects(deployOption(chain, verifier, defaultTerms({ extensionTime: 0n })), 'BadTerms');
});

test('the calldata from attestio settle --evm is accepted as sent', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms();
	const opt = await funded(chain, verifier, terms);
	const reports = values([1830, 1790, 1805, 1812]);
	const out = join(tmpDir(), 'calldata.json');
	// given out of order: the tool sorts them by round
	const off = settleOffchain(describe(terms), [...reports].reverse(), ['--evm', out]);
	assert.equal(off.status, 0, off.stderr);
	const cd = JSON.parse(readFileSync(out, 'utf8'));
	assert.deepEqual(cd.submissions.map((s) => s.round), [1, 2, 3, 4]);
	for (const s of cd.submissions) {
		assert.equal(s.calldata, '0x' + opt.calldata('submit', [s.core, s.sigs]));
		await chain.send(keeper, opt.address, s.calldata);
	}
	chain.now = terms.expiry;
	await chain.send(keeper, opt.address, cd.settle_calldata);
	assert.equal(await opt.call('buyerPayout'), BigInt(off.out.buyer));
	assert.equal(await opt.call('sellerPayout'), BigInt(off.out.seller));
	await chain.send(buyer, opt.address, cd.withdraw_calldata);
});

test('a party cannot drop an unfavourable round by submitting later rounds first', async () => {
	// Attack: the buyer of the call submits rounds 2-4 (warm) first so that
	// round 1 (cold) could never be accepted; the other party must still be
	// able to submit round 1 before settlement, and the mean counts it.
	const terms = defaultTerms();
	const { chain, verifier } = await setup();
	const opt = await funded(chain, verifier, terms);
	const reports = values([1000, 2000, 2000, 2000]);
	await submitAll(opt, reports.slice(1));
	await opt.tx(seller, 'submit', [reports[0].core, reports[0].sigs]);
	const r = await settleBoth(chain, opt, terms, reports);
	assert.equal(r.onchain.state, State.Settled);
	assert.equal(r.onchain.mean, 1750n);
	assert.equal(BigInt(r.off.out.mean), r.onchain.mean);
});
