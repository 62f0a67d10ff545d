// SPDX-License-Identifier: GPL-2.0
// Browser test of attestio-oracle's status page (Documentation/oracle.md,
// "Status page"): Debian's chromium, headless, driven by playwright-core
// (pinned in package-lock.json), against a node of tests/oracle/run.sh
// while its scenario runs.  Loads the page when the records are in and,
// without reloading, checks that the page follows the JSON API: the plot
// gains rounds live, the settled value, halts with their reason, the
// quarantined gateways with their reason, a hostile site label shown as
// text and never run, each device's reading per round on the plot, the
// reputation sparklines, the gateways' last-record age, and the download
// links of a final round's report and evidence bundle (clicked; saved in
// $STATUS_DOWNLOAD_DIR as FEED-ROUND.cbor / .bundle for run.sh to
// re-verify with `attestio verify-report`).  Saves a screenshot.  Prints "ok - ..." /
// "not ok - ..." lines; exit status 1 on any failure.
//
// node status-page.mjs URL SCREENSHOT.png HOSTILE_LABEL QUARANTINED_GW...
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

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
		tr.children[7].textContent === 'quarantined').length);
	result(devq > 0, 'devices of quarantined gateways are shown quarantined', `${devq} rows`);

	const labels = await page.$$eval('#gateways tbody tr td:nth-child(2)', l => l.map(e => e.textContent));
	const injected = await page.evaluate(() => typeof window.pwned !== 'undefined' ||
		document.querySelectorAll('#gateways img, #gateways script').length);
	result(hostileRow && labels.includes(hostile) && !injected,
	       'a hostile site label is shown as text, not run', `labels ${JSON.stringify(labels)}, injected ${injected}`);

	// Each device's reading of each round, as the final reports list them.
	const fmt = (v, dec) => dec <= 0 ? String(v * 10 ** -dec) : (v / 10 ** dec).toFixed(dec);
	for (const feed of ['honest', 'liar2']) {
		result(await agree(async d => {
			const f = d.feeds.find(x => x.name === feed);
			const want = [];
			for (const r of f.final)
				for (const v of r.devices)
					if (v.excluded_name !== 'stale' && v.excluded_name !== 'future')
						want.push(`round ${r.round} device ${v.device.slice(0, 8)}: ` +
							`${fmt(v.value, f.decimals)}${v.excluded ? ' (' + v.excluded_name + ')' : ''}`);
			const shown = await page.$$eval(`.feed[data-feed="${feed}"] svg circle.dev title`,
				l => l.map(e => e.textContent));
			const devs = new Set(f.final.flatMap(r => r.devices.map(v => v.device)));
			return want.length >= 4 && devs.size >= 2 &&
				JSON.stringify(shown) === JSON.stringify(want) ? '' :
				`page ${shown.length} points ${JSON.stringify(shown.slice(-3))}; API ${want.length} ${JSON.stringify(want.slice(-3))}`;
		}), `feed ${feed}: each device's reading of each round is a point on the plot, as in the API`, why);
	}

	// Reputation sparklines: one per device, the API's history.
	result(await agree(async d => {
		const cells = await page.$$eval('#devices tbody tr', trs => trs.map(tr => {
			const s = tr.querySelector('td.spark svg');
			return [tr.children[0].textContent, tr.children[1].textContent,
				s ? s.dataset.n : null, s ? s.dataset.last || null : null,
				s ? s.querySelectorAll('polyline').length : 0];
		}));
		const w = [];
		let grown = 0;
		for (const v of d.devices) {
			const c = cells.find(x => x[0] === v.device && x[1] === v.feed);
			const h = v.reputation_history;
			if (!c || Number(c[2]) !== h.length ||
			    (h.length && Number(c[3]) !== h[h.length - 1][1]) || (h.length > 0) !== (c[4] === 1))
				w.push(`${v.device}: page ${JSON.stringify(c)}, API ${h.length} rounds`);
			if (h.length >= 3)
				grown++;
		}
		if (!grown)
			w.push('no device has 3 rounds of history');
		return w.join('; ');
	}), 'a reputation sparkline per device with the API\'s history', why);

	// What the node measures of each gateway's backlog: the last record's age.
	result(await agree(async d => {
		const rows = await page.$$eval('#gateways tbody tr', trs => trs.map(tr =>
			[tr.children[0].textContent, tr.querySelector('td.last-record').textContent]));
		const w = [];
		for (const g of d.gateways) {
			const row = rows.find(r => r[0] === g.id);
			const m = row && /^(\d+) s ago$/.exec(row[1]);
			if (g.last_record_age_s === null ? !row || row[1] !== 'never' :
			    !m || Math.abs(Number(m[1]) - g.last_record_age_s) > 3)
				w.push(`${g.id}: page ${row && row[1]}, API ${g.last_record_age_s}`);
		}
		return d.gateways.some(g => g.last_record_age_s !== null) ? w.join('; ') :
			'no gateway has records';
	}), 'each gateway\'s last-record age is the API\'s', why);

	// The newest linked round's report and bundle: links as the API says,
	// clicked like a user would, saved for verify-report.
	const dir = process.env.STATUS_DOWNLOAD_DIR;
	let round = null;
	result(await agree(async d => {
		const f = d.feeds.find(x => x.name === 'honest');
		const want = f.final.slice(-5).reverse().filter(r => r.bundle)
			.map(r => `/api/v1/bundle/honest/${r.round}`);
		const links = await page.$$eval('.feed[data-feed="honest"] a.bundle',
			l => l.map(a => a.getAttribute('href')));
		const s = f.final.slice(-5).filter(r => r.bundle);
		round = s.length ? s[s.length - 1].round : null;
		return want.length && JSON.stringify(links) === JSON.stringify(want) && round !== null ? '' :
			`page ${JSON.stringify(links)}, API ${JSON.stringify(want)}`;
	}), 'the last final rounds link to their report and evidence bundle', why);
	if (dir && round !== null) {
		let got = '';
		try {
			for (const [cls, ext] of [['final', 'cbor'], ['bundle', 'bundle']]) {
				const a = `.feed[data-feed="honest"] a.${cls}[href="/api/v1/${cls}/honest/${round}"]`;
				const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }),
					page.click(a)]);
				const file = `${dir}/honest-${round}.${ext}`;
				await dl.saveAs(file);
				const direct = await (await page.request.get(url + `api/v1/${cls}/honest/${round}`)).body();
				const saved = readFileSync(file);
				if (!saved.length || !saved.equals(direct))
					got += ` ${ext}: ${saved.length} bytes, direct ${direct.length}`;
				if (dl.suggestedFilename() !== `honest-${String(round).padStart(8, '0')}.${ext}`)
					got += ` name ${dl.suggestedFilename()}`;
			}
		} catch (e) {
			got += ' ' + e.message;
		}
		result(!got, `round ${round}: clicking its links downloads the report and the bundle (${dir})`, got);
	}

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
