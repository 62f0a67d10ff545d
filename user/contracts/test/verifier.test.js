// SPDX-License-Identifier: GPL-2.0
// AttestioFeedVerifier on an in-process EVM, with report cores signed by
// liboracle (the nodes' own C code): what it accepts, and each rejection
// on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { privateToAddress } from '@ethereumjs/util';
import { RevertError, DAY, hex, unhex } from './evm.js';
import { setup, report, nodeKey, nodeAddresses, gov, keeper, FEED, CONFIG, CONFIG2 } from './fixtures.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function rejects(p, name) {
	await assert.rejects(p, (e) => {
		assert.ok(e instanceof RevertError, `not a revert: ${e}`);
		assert.equal(e.errorName, name, e.message);
		return true;
	});
}

// Replace the 32-byte word `w` of a core (hex) with `value` (hex, 64 digits).
function setWord(core, w, value) {
	const h = core.slice(2);
	return '0x' + h.slice(0, 64 * w) + value + h.slice(64 * (w + 1));
}

function sigAt(sigs, i) {
	return sigs.slice(2 + 130 * i, 2 + 130 * (i + 1));
}

test('liboracle computes the same Ethereum addresses as ethereumjs', () => {
	const fromC = nodeAddresses([1, 2, 3, 4]);
	const fromJs = [1, 2, 3, 4].map((i) => hex(privateToAddress(unhex(nodeKey(i)))));
	assert.deepEqual(fromC, fromJs);
});

test('a core signed by t = 2 of 4 nodes is accepted and stored', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [2, 4], round: 7, value: -315 });
	const { out } = await verifier.tx(keeper, 'verify', [r.core, r.sigs]);
	assert.equal(out[0].round, 7n);
	assert.equal(out[0].value, -315n);
	assert.equal(await verifier.call('lastRound', [FEED]), 7n);
	const stored = await verifier.call('roundOf', [FEED, 7n]);
	assert.deepEqual([stored.value, stored.decimals, stored.status, stored.accepted],
		[-315n, 2n, 0n, true]);
	// and the digest the contract computes is the one liboracle signed
	assert.equal(await verifier.call('threshold'), 2n);
});

test('more than t valid signatures (all 4 nodes) are accepted', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2, 3, 4], round: 1, value: 2000 });
	await verifier.tx(keeper, 'verify', [r.core, r.sigs]);
	assert.equal(await verifier.call('lastRound', [FEED]), 1n);
});

test('rejects fewer than t signatures', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [3], round: 1 });
	await rejects(verifier.tx(keeper, 'verify', [r.core, r.sigs]), 'TooFewSignatures');
});

test('rejects a signature from a node outside the set', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 9], round: 1 });
	await rejects(verifier.tx(keeper, 'verify', [r.core, r.sigs]), 'UnknownSigner');
});

test('rejects the same node twice', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [2], round: 1 });
	const twice = '0x' + sigAt(r.sigs, 0) + sigAt(r.sigs, 0);
	await rejects(verifier.tx(keeper, 'verify', [r.core, twice]), 'DuplicateSigner');
});

test('rejects a high-s signature (the malleated twin of a valid one)', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const s0 = sigAt(r.sigs, 0);
	const s = BigInt('0x' + s0.slice(64, 128));
	const v = parseInt(s0.slice(128, 130), 16);
	const twin = s0.slice(0, 64) + (N - s).toString(16).padStart(64, '0') +
		(v === 27 ? '1c' : '1b');
	await rejects(verifier.tx(keeper, 'verify', [r.core, '0x' + twin + sigAt(r.sigs, 1)]), 'HighS');
	// the original pair is fine
	await verifier.tx(keeper, 'verify', [r.core, r.sigs]);
});

test('rejects a v other than 27/28', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const bad = '0x' + sigAt(r.sigs, 0).slice(0, 128) + '01' + sigAt(r.sigs, 1);
	await rejects(verifier.tx(keeper, 'verify', [r.core, bad]), 'BadV');
});

test('rejects a core with a changed value', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1, value: 1500 });
	const core = setWord(r.core, 2, 1501n.toString(16).padStart(64, '0'));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'UnknownSigner');
});

test('rejects a core with a changed round', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const core = setWord(r.core, 1, 2n.toString(16).padStart(64, '0'));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'UnknownSigner');
});

test('rejects a core with a changed feed', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const core = setWord(r.core, 0, 'f2'.repeat(32));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'UnknownSigner');
});

test('rejects a core with a changed status (a halt made to look settled)', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1, status: 4 });
	const core = setWord(r.core, 4, '0'.repeat(64));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'UnknownSigner');
});

test('rejects a core with a changed config digest', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const core = setWord(r.core, 5, CONFIG2.slice(2));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'ConfigMismatch');
	// signed under another digest by the right nodes: still refused
	const other = report({ signers: [1, 2], round: 1, config: CONFIG2 });
	await rejects(verifier.tx(keeper, 'verify', [other.core, other.sigs]), 'ConfigMismatch');
});

test('rejects a core that is not strictly encoded (value beyond int64)', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 1 });
	const core = setWord(r.core, 2, '00'.repeat(23) + '01' + '00'.repeat(8));
	await rejects(verifier.tx(keeper, 'verify', [core, r.sigs]), 'BadCoreEncoding');
	await rejects(verifier.tx(keeper, 'verify', [r.core.slice(0, -2), r.sigs]), 'BadCoreLength');
});

test('rejects a replayed round', async () => {
	const { verifier } = await setup();
	const r = report({ signers: [1, 2], round: 5 });
	await verifier.tx(keeper, 'verify', [r.core, r.sigs]);
	await rejects(verifier.tx(keeper, 'verify', [r.core, r.sigs]), 'StaleRound');
});

test('an earlier round stays acceptable after a later one (no cherry-picking by skipping rounds)', async () => {
	// Attack: whoever submits first submits round 5 before round 4; with a
	// "greater than the last round" rule, round 4 could never be accepted
	// again and a consumer averaging over rounds would see only the rounds
	// the submitter chose.  Each round is accepted once, in any order.
	const { verifier } = await setup();
	const r5 = report({ signers: [1, 2], round: 5 });
	const r4 = report({ signers: [3, 4], round: 4, value: 1234 });
	await verifier.tx(keeper, 'verify', [r5.core, r5.sigs]);
	await verifier.tx(keeper, 'verify', [r4.core, r4.sigs]);
	const stored = await verifier.call('roundOf', [FEED, 4n]);
	assert.equal(stored.value, 1234n);
	assert.equal(await verifier.call('lastRound', [FEED]), 5n);
	// but each round only once, whatever its signers
	await rejects(verifier.tx(keeper, 'verify', [r4.core, r4.sigs]), 'StaleRound');
	const again = report({ signers: [1, 3], round: 4, value: 1234 });
	await rejects(verifier.tx(keeper, 'verify', [again.core, again.sigs]), 'StaleRound');
	// round 0 is not a round
	const r0 = report({ signers: [1, 2], round: 0 });
	await rejects(verifier.tx(keeper, 'verify', [r0.core, r0.sigs]), 'StaleRound');
	// rounds are per feed: another feed starts afresh
	const o = report({ signers: [3, 4], round: 5, feed: '0x' + 'f2'.repeat(32) });
	await verifier.tx(keeper, 'verify', [o.core, o.sigs]);
});

test('rejects a report signed under a rotated-out set', async () => {
	const { chain, verifier } = await setup();
	const newSet = nodeAddresses([5, 6, 7, 8]);
	await rejects(verifier.tx(keeper, 'proposeSet', [newSet, 1, CONFIG2]), 'NotGovernance');
	await verifier.tx(gov, 'proposeSet', [newSet, 1, CONFIG2]);
	await rejects(verifier.tx(keeper, 'applySet'), 'TooEarly');
	// the old set still rules during the delay
	const before = report({ signers: [1, 2], round: 1 });
	await verifier.tx(keeper, 'verify', [before.core, before.sigs]);
	chain.now += DAY;
	await verifier.tx(keeper, 'applySet');
	assert.deepEqual(await verifier.call('getSigners'), newSet);
	assert.equal(await verifier.call('configDigest'), CONFIG2);
	const old = report({ signers: [1, 2], round: 2 });
	await rejects(verifier.tx(keeper, 'verify', [old.core, old.sigs]), 'ConfigMismatch');
	const oldKeysNewDigest = report({ signers: [1, 2], round: 2, config: CONFIG2 });
	await rejects(verifier.tx(keeper, 'verify', [oldKeysNewDigest.core, oldKeysNewDigest.sigs]),
		'UnknownSigner');
	const fresh = report({ signers: [6, 8], round: 2, config: CONFIG2 });
	await verifier.tx(keeper, 'verify', [fresh.core, fresh.sigs]);
});

test('governance: only it proposes or cancels; a set must have n >= 3f + 1', async () => {
	const { verifier } = await setup();
	await rejects(verifier.tx(gov, 'proposeSet', [nodeAddresses([5, 6, 7]), 1, CONFIG2]), 'BadSet');
	await rejects(verifier.tx(gov, 'proposeSet', [nodeAddresses([5, 5, 6, 7]), 1, CONFIG2]), 'BadSet');
	await rejects(verifier.tx(gov, 'cancelSet'), 'NothingPending');
	await verifier.tx(gov, 'proposeSet', [nodeAddresses([5, 6, 7, 8]), 1, CONFIG2]);
	await rejects(verifier.tx(keeper, 'cancelSet'), 'NotGovernance');
	await verifier.tx(gov, 'cancelSet');
	await rejects(verifier.tx(keeper, 'applySet'), 'NothingPending');
});
