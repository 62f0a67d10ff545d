// SPDX-License-Identifier: GPL-2.0
// No path locks collateral: a depth-first walk over every sequence of
// actions (deposits, settled and halted reports, time passing past each
// deadline, settle) from a fresh TemperatureOption, merged by abstract
// state.  In every state reached, (1) the contract holds exactly what was
// deposited and not yet withdrawn, and (2) after time passes, at most two
// settle() calls end in Settled or Refunded, and withdrawals empty the
// contract with the parties getting back every wei deposited.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { RevertError } from './evm.js';
import { setup, report, buyer, seller, keeper, deployOption, defaultTerms } from './fixtures.js';

const FINAL = new Set([3n, 4n]);	// Settled, Refunded

test('state machine: every reachable state ends in settlement or refund', async () => {
	const { chain, verifier } = await setup();
	const terms = defaultTerms({ lastRound: 2n, extensionRounds: 1n, minRounds: 2n });
	const opt = await deployOption(chain, verifier, terms);
	chain.fast = true;	// plain message calls: the walk checks effects, not gas
	const pool = terms.buyerDeposit + terms.sellerDeposit;
	// reports for rounds 1..4 (4 is never in the window), settled and halted, signed by liboracle
	const rep = {};
	for (const round of [1, 2, 3, 4]) {
		rep[`s${round}`] = report({ round, value: 1790 + 10 * round });
		rep[`h${round}`] = report({ round, value: 0, status: 1 });
	}
	const sm = chain.vm.stateManager;
	const snap = async (fn) => {
		const now = chain.now;
		await sm.checkpoint();
		try {
			return await fn();
		} finally {
			await sm.revert();
			chain.now = now;
		}
	};
	const tryTx = async (fn) => {
		try {
			await fn();
			return true;
		} catch (e) {
			if (!(e instanceof RevertError))
				throw e;
			return false;
		}
	};
	const progress = async () => {
		const [state, bp, sp, settled, halted, windowEnd, deadline] = await opt.call('progress');
		return { state, bp, sp, settled, halted, windowEnd, deadline };
	};
	const nextRound = async () => {
		const p = await progress();
		return 1n + p.settled + p.halted;
	};
	const actions = {
		depositBuyer: () => opt.tx(buyer, 'deposit', [], terms.buyerDeposit),
		depositSeller: () => opt.tx(seller, 'deposit', [], terms.sellerDeposit),
		settledReport: async () => {
			const r = rep[`s${await nextRound()}`];
			return opt.tx(keeper, 'submit', [r.core, r.sigs]);
		},
		haltedReport: async () => {
			const r = rep[`h${await nextRound()}`];
			return opt.tx(keeper, 'submit', [r.core, r.sigs]);
		},
		passDepositDeadline: async () => {
			if (chain.now >= terms.depositDeadline)
				throw new RevertError('time', [], '', 0n);
			chain.now = terms.depositDeadline;
		},
		passDeadline: async () => {
			const d = (await progress()).deadline;
			if (chain.now >= d)
				throw new RevertError('time', [], '', 0n);
			chain.now = d;
		},
		settle: () => opt.tx(keeper, 'settle'),
	};
	const key = async () => {
		const p = await progress();
		return [p.state, p.bp, p.sp, p.settled, p.halted, p.windowEnd,
			chain.now >= terms.depositDeadline, chain.now >= p.deadline].join(',');
	};

	const seen = new Set();
	const finals = new Set();
	let transitions = 0;

	async function checkState() {
		const { bp, sp } = await progress();
		const deposited = (bp ? terms.buyerDeposit : 0n) + (sp ? terms.sellerDeposit : 0n);
		assert.equal(await chain.balance(opt.address), deposited, 'balance != deposits');
		await snap(async () => {
			chain.now = terms.expiry + terms.extensionTime + 1n;
			for (let i = 0; i < 2 && !FINAL.has((await progress()).state); i++)
				await opt.tx(keeper, 'settle');
			const st = (await progress()).state;
			assert.ok(FINAL.has(st), `stuck in state ${st}`);
			const cb = await opt.call('credit', [buyer.hex]);
			const cs = await opt.call('credit', [seller.hex]);
			assert.equal(cb + cs, deposited, 'credits != deposits');
			if (bp && sp && st === 3n)
				assert.equal(cb + cs, pool);
			for (const p of [buyer, seller])
				await tryTx(() => opt.tx(p, 'withdraw'));
			assert.equal(await chain.balance(opt.address), 0n, 'collateral left behind');
			finals.add(`${st}:${cb}:${cs}`);
		});
	}

	async function walk(depth) {
		const k = await key();
		if (seen.has(k))
			return;
		seen.add(k);
		await checkState();
		if (depth === 0)
			return;
		for (const [, act] of Object.entries(actions)) {
			await snap(async () => {
				if (await tryTx(act)) {
					transitions++;
					await walk(depth - 1);
				}
			});
		}
	}

	await walk(9);
	// the walk reached every kind of ending
	const kinds = new Set([...finals].map((f) => f.split(':')[0]));
	assert.deepEqual([...kinds].sort(), ['3', '4']);
	assert.ok(seen.size > 30, `only ${seen.size} states`);
	console.log(`# state machine: ${seen.size} states, ${transitions} transitions, ` +
		`${finals.size} distinct endings`);
});
