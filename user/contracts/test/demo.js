// SPDX-License-Identifier: GPL-2.0
// The chain end of `make demo` (tests/demo.sh): four oracle nodes (f = 1)
// sign a day of temperature rounds with liboracle, `attestio settle`
// computes the option's payout and the calldata, and that calldata settles
// a TemperatureOption on an in-process EVM: the same payout, to the wei.
// Usage: node test/demo.js [VALUE...]   (round values at decimals 2)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	setup, report, buyer, seller, keeper, funded, defaultTerms, describe,
	settleOffchain, tmpDir,
} from './fixtures.js';

const vals = process.argv.slice(2).map(Number);
const values = vals.length ? vals : [1795, 1812, 1830, 1826];
const terms = defaultTerms({ lastRound: BigInt(values.length), minRounds: BigInt(values.length) });
const { chain, verifier } = await setup();
const opt = await funded(chain, verifier, terms);
const reports = values.map((value, i) => report({ signers: [1 + (i % 4), 1 + ((i + 2) % 4)],
	round: i + 1, value }));
const out = join(tmpDir(), 'calldata.json');
const off = settleOffchain(describe(terms), reports, ['--evm', out]);
if (off.status !== 0) {
	console.error(off.stderr);
	process.exit(1);
}
const cd = JSON.parse(readFileSync(out, 'utf8'));
for (const s of cd.submissions)
	await chain.send(keeper, opt.address, s.calldata);
chain.now = terms.expiry;
const g = await chain.send(keeper, opt.address, cd.settle_calldata);
const onBuyer = await opt.call('buyerPayout');
const onSeller = await opt.call('sellerPayout');
const same = onBuyer === BigInt(off.out.buyer) && onSeller === BigInt(off.out.seller);
const eth = (w) => (Number(w) / 1e18).toFixed(6);
console.log(`rounds (°C): ${values.map((v) => (v / 100).toFixed(2)).join(' ')}; ` +
	`strike ${(Number(terms.strike) / 100).toFixed(2)} °C, mean ${(Number(await opt.call('finalMean')) / 100).toFixed(2)} °C`);
console.log(`attestio settle: buyer ${eth(off.out.buyer)} ETH, seller ${eth(off.out.seller)} ETH`);
console.log(`contract on the EVM (settle: ${g.gas} gas): buyer ${eth(onBuyer)} ETH, ` +
	`seller ${eth(onSeller)} ETH (${onBuyer} / ${onSeller} wei)`);
console.log(`demo-settle: same=${same ? 1 : 0} buyer=${onBuyer} seller=${onSeller} ` +
	`buyer_addr=${buyer.hex} seller_addr=${seller.hex}`);
process.exit(same ? 0 : 1);
