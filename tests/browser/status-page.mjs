// SPDX-License-Identifier: GPL-2.0
// Browser test of attestio-oracle's status page (Documentation/oracle.md,
// "Status page"): Debian's chromium, headless, driven by playwright-core
// (pinned in package-lock.json), against a node of tests/oracle/run.sh
// while its scenario runs.  Loads the page when the records are in and,
// without reloading, checks that the page follows the JSON API: the plot
// gains rounds live, the settled value, halts with their reason, the
// quarantined gateways with their reason, a hostile site label shown as
// text and never run.  Saves a screenshot.  Prints "ok - ..." /
// "not ok - ..." lines; exit status 1 on any failure.
//
// node status-page.mjs URL SCREENSHOT.png HOSTILE_LABEL QUARANTINED_GW...
import { chromium } from 'playwright-core';

const [url, shot, hostile, ...quarantined] = process.argv.slice(2);
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
let fails = 0;
const result = (ok, what, why) => {
	if (!ok)
		fails++;
	console.log(`${ok ? 'ok' : 'not ok'} - ${what}${ok || !why ? '' : ': ' + why}`);
};

// Poll fn() (in the test) until it returns a truthy value or @ms pass.
async function until(fn, ms) {
	const end = Date.now() + ms;
	let v;
	while (!(v = await fn()) && Date.now() < end)
		await new Promise(r => setTimeout(r, 250));
	return v;
}

const browser = await chromium.launch({ executablePath: exe, headless: true,
	args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'] });
try {
	const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
	const errors = [];
	page.on('pageerror', e => errors.push(e.message));
	page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
	// Anything the page asks from another origin is a failure (no CDN).
	const foreign = [];
	page.on('request', r => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
	await page.goto(url);
	await page.evaluate(() => { window.loadMarker = 1; });
	const api = async () => (await page.request.get(url + 'api/v1/status')).json();
	const points = feed => page.$eval(`.feed[data-feed="${feed}"] svg`,
		s => Number(s.dataset.points)).catch(() => -1);

	await until(async () => (await page.textContent('#node')).length > 0, 10000);
	// Rounds keep running (after round 4 the readings go stale: halts), so
	// the honest feed's plot gains points or halt marks every period.
	const marks = () => page.$eval('.feed[data-feed="honest"] svg',
		s => Number(s.dataset.points) + Number(s.dataset.halts)).catch(() => -1);
	const first = await marks();
	const grown = await until(async () => (await points('honest')) >= 4 &&
		(await marks()) > first &&
		(await page.$$('.feed[data-feed="liar2"] .halts li')).length >= 4, 60000);
	const last = await marks();
	const reloaded = await page.evaluate(() => window.loadMarker !== 1);
	result(grown && first >= 0 && first < last && !reloaded,
	       'plot updates live: the honest feed gains rounds without a reload',
	       `rounds plotted ${first} -> ${last}, reloaded ${reloaded}`);

	// The page follows the API: compare until they agree (a poll a second).
	let d, why;
	const agree = async (check) => until(async () => {
		d = await api();
		why = await check(d);
		return !why;
	}, 8000);

	const want = f => f.settled ? (f.last_value / 10 ** f.decimals).toFixed(f.decimals) : '-';
	result(await agree(async d => {
		const f = d.feeds.find(x => x.name === 'honest');
		const shown = await page.textContent('.feed[data-feed="honest"] .last-settled');
		return shown === want(f) && shown === '23.15' ? '' : `page ${shown}, API ${want(f)}`;
	}), 'the last settled value shown is the API\'s (23.15)', why);

	for (const [feed, reason] of [['liar2', 'disagree'], ['few', 'few-devices']]) {
		result(await agree(async d => {
			const marks = await page.$$eval(`.feed[data-feed="${feed}"] svg .haltmark title`,
				l => l.map(e => e.textContent));
			const apiHalts = d.feeds.find(f => f.name === feed).final
				.filter(r => r.status !== 0)
				.map(r => `round ${r.round} halted: ${r.status_name}`);
			const list = await page.$$eval(`.feed[data-feed="${feed}"] .halts li`,
				l => l.map(e => e.textContent));
			return JSON.stringify(marks) === JSON.stringify(apiHalts) &&
				marks.some(t => t.endsWith(': ' + reason)) && list.length > 0 ? '' :
				`page ${JSON.stringify(marks)}; API ${JSON.stringify(apiHalts)}`;
		}), `feed ${feed}: every halt of the API is marked on the plot with its reason (${reason})`, why);
	}

	result(quarantined.length && await agree(async d => {
		const rows = await page.$$eval('#gateways tbody tr', trs => trs.map(tr =>
			Array.from(tr.children).map(td => td.textContent)));
		const w = [];
		for (const g of quarantined) {
			const row = rows.find(r => r[0] === g);
			const a = d.gateways.find(x => x.id === g);
			if (!row || row[2] !== 'quarantined' || a.state !== 'quarantined' ||
			    row[3] !== a.reason || !a.reason)
				w.push(`${g}: page ${JSON.stringify(row)}, API ${JSON.stringify(a)}`);
		}
		const active = rows.filter(r => r[2] === 'active').length;
		if (active !== d.gateways.filter(x => x.state === 'active').length)
			w.push(`${active} active rows`);
		return w.join('; ');
	}), 'quarantined gateways are shown with the API\'s state and reason', why);

	const hostileRow = d.gateways.find(x => x.site === hostile);
	const devq = await page.$$eval('#devices tbody tr', trs => trs.filter(tr =>
		tr.children[6].textContent === 'quarantined').length);
	result(devq > 0, 'devices of quarantined gateways are shown quarantined', `${devq} rows`);

	const labels = await page.$$eval('#gateways tbody tr td:nth-child(2)', l => l.map(e => e.textContent));
	const injected = await page.evaluate(() => typeof window.pwned !== 'undefined' ||
		document.querySelectorAll('#gateways img, #gateways script').length);
	result(hostileRow && labels.includes(hostile) && !injected,
	       'a hostile site label is shown as text, not run', `labels ${JSON.stringify(labels)}, injected ${injected}`);

	const health = await page.textContent('#health');
	result(/connected to the broker/.test(health) && /records verified/.test(health),
	       'node health is shown', health);
	result(!errors.length && !foreign.length, 'no script errors, nothing fetched from another origin',
	       JSON.stringify({ errors, foreign }));
	await page.screenshot({ path: shot, fullPage: true });
} catch (e) {
	result(false, 'browser test ran', e.stack);
} finally {
	await browser.close();
}
process.exit(fails ? 1 : 0);
