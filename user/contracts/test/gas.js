// SPDX-License-Identifier: GPL-2.0
// Gas measurements for `make bench` (tests/bench/run.sh, step "gas"): whole
// transactions on the in-process EVM (Cancun rules, intrinsic 21000 and
// calldata included), with report cores signed by liboracle.  One line of
// key=value words per measurement.
import { Chain, compile, DAY } from './evm.js';
import {
	report, nodeAddresses, gov, buyer, keeper, funded, defaultTerms, CONFIG, FEED,
} from './fixtures.js';

async function verifierWith(n, f) {
	const chain = await Chain.create();
	const idx = Array.from({ length: n }, (_, i) => i + 1);
	const verifier = await chain.deploy(gov, (await compile()).verifier,
		[gov.hex, DAY, nodeAddresses(idx), f, CONFIG]);
	return { chain, verifier, idx };
}

const { version } = await compile();
console.log(`solc=${version} evm=cancun optimizer_runs=200`);

// verify() at t = 2, 3, 5 (n = 3f + 1), first report of a feed and a later one
let base;
for (const t of [2, 3, 5]) {
	const f = t - 1;
	const { verifier, idx } = await verifierWith(3 * f + 1, f);
	const signers = idx.slice(0, t);
	const r1 = report({ signers, round: 1, value: 1800 });
	const r2 = report({ signers, round: 2, value: 1801 });
	const g1 = (await verifier.tx(keeper, 'verify', [r1.core, r1.sigs])).gas;
	const g2 = (await verifier.tx(keeper, 'verify', [r2.core, r2.sigs])).gas;
	if (t === 2)
		base = g2;
	// what each signature beyond t = 2 adds (sha256 is paid once)
	const marginal = t === 2 ? '-' : ((Number(g2) - Number(base)) / (t - 2)).toFixed(0);
	console.log(`step=verify t=${t} n=${3 * f + 1} gas_first=${g1} gas_next=${g2} ` +
		`per_extra_sig=${marginal} deploy=${verifier.deployGas}`);
}

// The option's life at t = 2 (n = 4): deposits, submit x rounds, settle, withdraw
{
	const { chain, verifier } = await verifierWith(4, 1);
	const terms = defaultTerms();
	const opt = await funded(chain, verifier, terms);
	const subs = [];
	for (let round = 1; round <= 4; round++) {
		const r = report({ signers: [1, 2], round, value: 1790 + 7 * round, feed: FEED });
		subs.push((await opt.tx(keeper, 'submit', [r.core, r.sigs])).gas);
	}
	chain.now = terms.expiry;
	const settle = (await opt.tx(keeper, 'settle')).gas;
	const wd = (await opt.tx(buyer, 'withdraw')).gas;
	console.log(`step=option t=2 deploy=${opt.deployGas} submit_first=${subs[0]} ` +
		`submit_next=${subs[1]} settle=${settle} withdraw=${wd}`);
}
