// SPDX-License-Identifier: GPL-2.0
// attestio-oracle status page: polls /api/v1/status (Documentation/oracle.md,
// "Status page") every second and redraws.  Everything from the network is
// put in the page as text (textContent, SVG attributes), never as markup.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const W = 420, H = 160, PAD = 30;

function el(tag, attrs, text) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {}))
		e.setAttribute(k, String(v));
	if (text !== undefined)
		e.textContent = String(text);
	return e;
}

function svg(tag, attrs) {
	const e = document.createElementNS(SVGNS, tag);
	for (const [k, v] of Object.entries(attrs || {}))
		e.setAttribute(k, String(v));
	return e;
}

function fmt(v, decimals) {
	if (decimals <= 0)
		return String(v * Math.pow(10, -decimals));
	return (v / Math.pow(10, decimals)).toFixed(decimals);
}

// Devices without a reading in the round (their value means nothing).
const NO_READING = new Set(['stale', 'future']);

// The plot: settled values (the weighted median) as a line with points and
// the tolerance band (value +- tau), each device's reading of each round
// as a small point (hollow when the round did not count it), halted
// rounds as red marks with their reason.
function plot(feed) {
	const s = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`,
			       role: 'img', 'aria-label': `rounds of ${feed.name}` });
	const fin = feed.final;
	const settled = fin.filter(r => r.status === 0);
	const halted = fin.filter(r => r.status !== 0);
	const devpts = [];
	for (const r of fin)
		for (const d of r.devices || [])
			if (!NO_READING.has(d.excluded_name))
				devpts.push([r, d]);
	s.dataset.points = settled.length;
	s.dataset.halts = halted.length;
	s.dataset.devicePoints = devpts.length;
	s.appendChild(svg('line', { class: 'axis', x1: PAD, y1: H - PAD, x2: W - 5, y2: H - PAD }));
	s.appendChild(svg('line', { class: 'axis', x1: PAD, y1: 5, x2: PAD, y2: H - PAD }));
	if (!fin.length) {
		const t = svg('text', { x: W / 2 - 40, y: H / 2 });
		t.textContent = 'no rounds yet';
		s.appendChild(t);
		return s;
	}
	const r0 = fin[0].round, r1 = Math.max(fin[fin.length - 1].round, r0 + 1);
	let lo = Infinity, hi = -Infinity;
	for (const r of settled) {
		lo = Math.min(lo, r.value - feed.tau);
		hi = Math.max(hi, r.value + feed.tau);
	}
	for (const [, d] of devpts) {
		lo = Math.min(lo, d.value);
		hi = Math.max(hi, d.value);
	}
	if (lo === Infinity) { lo = 0; hi = 1; }
	if (hi === lo) { hi += 1; lo -= 1; }
	const x = r => PAD + (r - r0) * (W - PAD - 10) / (r1 - r0);
	const y = v => H - PAD - (v - lo) * (H - PAD - 10) / (hi - lo);
	if (settled.length) {
		const up = settled.map(r => `${x(r.round)},${y(r.value + feed.tau)}`);
		const down = settled.slice().reverse().map(r => `${x(r.round)},${y(r.value - feed.tau)}`);
		s.appendChild(svg('polygon', { class: 'band', points: up.concat(down).join(' ') }));
		s.appendChild(svg('polyline', { class: 'line',
			points: settled.map(r => `${x(r.round)},${y(r.value)}`).join(' ') }));
		for (const r of settled) {
			const c = svg('circle', { class: 'pt', cx: x(r.round), cy: y(r.value), r: 3 });
			const t = svg('title');
			t.textContent = `round ${r.round}: ${fmt(r.value, feed.decimals)}`;
			c.appendChild(t);
			s.appendChild(c);
		}
	}
	for (const [r, d] of devpts) {
		const c = svg('circle', { class: d.excluded ? 'dev excluded' : 'dev',
					  cx: x(r.round), cy: y(d.value), r: 2 });
		const t = svg('title');
		t.textContent = devTitle(feed, r, d);
		c.appendChild(t);
		s.appendChild(c);
	}
	for (const r of halted) {
		const m = svg('line', { class: 'haltmark', x1: x(r.round), y1: 8,
					x2: x(r.round), y2: H - PAD });
		const t = svg('title');
		t.textContent = `round ${r.round} halted: ${r.status_name}`;
		m.appendChild(t);
		s.appendChild(m);
	}
	for (const [v, yy] of [[hi, 12], [lo, H - PAD]]) {
		const t = svg('text', { x: 2, y: yy });
		t.textContent = fmt(Math.round(v), feed.decimals);
		s.appendChild(t);
	}
	const tl = svg('text', { x: PAD, y: H - 12 });
	tl.textContent = `round ${r0}`;
	s.appendChild(tl);
	const tr = svg('text', { x: W - 60, y: H - 12 });
	tr.textContent = `round ${r1}`;
	s.appendChild(tr);
	return s;
}

// The tooltip of a device's point; the browser test rebuilds it from the API.
function devTitle(feed, r, d) {
	return `round ${r.round} device ${d.device.slice(0, 8)}: ` +
		`${fmt(d.value, feed.decimals)}${d.excluded ? ' (' + d.excluded_name + ')' : ''}`;
}

// A device's reputation over the last rounds (0..1) as a small line.
function sparkline(hist) {
	const w = 100, h = 18;
	const s = svg('svg', { class: 'spark', width: w, height: h, viewBox: `0 0 ${w} ${h}`,
			       role: 'img', 'aria-label': 'reputation history' });
	s.dataset.n = hist.length;
	if (!hist.length)
		return s;
	s.dataset.last = hist[hist.length - 1][1];
	const r0 = hist[0][0], r1 = Math.max(hist[hist.length - 1][0], r0 + 1);
	const pts = hist.map(([r, v]) =>
		`${(1 + (r - r0) * (w - 2) / (r1 - r0)).toFixed(1)},${(h - 1 - v / 1e6 * (h - 2)).toFixed(1)}`);
	s.appendChild(svg('polyline', { class: 'line', points: pts.join(' ') }));
	const t = svg('title');
	t.textContent = `rounds ${r0}-${hist[hist.length - 1][0]}: ` +
		`${(hist[0][1] / 1e6).toFixed(3)} -> ${(hist[hist.length - 1][1] / 1e6).toFixed(3)}`;
	s.appendChild(t);
	return s;
}

// Downloads of the last final reports: report and evidence bundle, for
// `attestio verify-report REPORT BUNDLE --nodes FILE`.
function downloads(f) {
	const ul = el('ul', { class: 'downloads' });
	for (const r of f.final.slice(-5).reverse()) {
		const li = el('li', {}, `round ${r.round} ${r.status_name}: `);
		const base = `/api/v1/%s/${encodeURIComponent(f.name)}/${r.round}`;
		li.appendChild(el('a', { class: 'final', href: base.replace('%s', 'final'),
					 download: '' }, 'report'));
		if (r.bundle) {
			li.appendChild(el('span', {}, ' \u00b7 '));
			li.appendChild(el('a', { class: 'bundle', href: base.replace('%s', 'bundle'),
						 download: '' }, 'evidence bundle'));
		}
		ul.appendChild(li);
	}
	return ul;
}

function feedCard(f) {
	const d = el('div', { class: 'feed', 'data-feed': f.name });
	d.appendChild(el('h3', {}, f.name));
	const last = f.final.length ? f.final[f.final.length - 1] : null;
	const cur = el('p', { class: 'current' });
	if (!last) {
		cur.textContent = 'no final report yet';
	} else if (last.status === 0) {
		cur.appendChild(el('span', {}, `round ${last.round}: settled `));
		cur.appendChild(el('b', { class: 'settled-value ok' }, fmt(last.value, f.decimals)));
		cur.appendChild(el('span', {}, ` (${last.signers} signatures)`));
	} else {
		cur.appendChild(el('span', {}, `round ${last.round}: `));
		cur.appendChild(el('b', { class: 'halt' }, `halted: ${last.status_name}`));
	}
	d.appendChild(cur);
	const p = el('p', {}, 'last settled value ');
	p.appendChild(el('b', { class: 'last-settled' }, f.settled ? fmt(f.last_value, f.decimals) : '-'));
	p.appendChild(el('span', {}, `, tolerance \u00b1${fmt(f.tau, f.decimals)}`));
	d.appendChild(p);
	d.appendChild(plot(f));
	const halts = f.final.filter(r => r.status !== 0);
	if (halts.length) {
		const ul = el('ul', { class: 'halts' });
		for (const r of halts.slice(-10).reverse())
			ul.appendChild(el('li', { class: 'halt' }, `round ${r.round}: ${r.status_name}`));
		d.appendChild(ul);
	}
	if (f.final.length)
		d.appendChild(downloads(f));
	return d;
}

// Cells are [text, class] or [a DOM node, class].
function rows(tbody, list, cells) {
	tbody.replaceChildren();
	for (const item of list) {
		const tr = el('tr');
		for (const [v, cls] of cells(item)) {
			const td = el('td', cls ? { class: cls } : {});
			if (v instanceof Node)
				td.appendChild(v);
			else
				td.textContent = String(v);
			tr.appendChild(td);
		}
		tbody.appendChild(tr);
	}
}

function age(s) {
	return s === null || s === undefined ? 'never' : `${s} s ago`;
}

// the newest oracle beacon the gateway's verified checkpoints cover
function beaconAge(b) {
	if (b === undefined)
		return '';
	if (b === null)
		return 'none';
	return `round ${b.round}, ${b.age_s} s old (${b.class})`;
}

// what the gateway's daemon reports of itself (unchecked, informative)
function reported(r) {
	if (r === undefined)
		return '';
	if (r === null)
		return 'no report';
	return `${r.spool_records} records, ${r.spool_bytes} B, oldest ${r.spool_age_s} s` +
		` \u00b7 beacon round ${r.beacon_round} \u00b7 ${r.age_s} s ago`;
}

function render(d) {
	document.getElementById('node').textContent = d.node;
	const h = document.getElementById('health');
	h.replaceChildren();
	if (d.health) {
		const c = d.health.connected;
		h.appendChild(el('span', { class: c ? 'ok' : 'bad', id: 'connected' },
				 c ? 'connected to the broker' : 'not connected'));
		h.appendChild(el('span', {}, ` \u00b7 up ${d.health.uptime_s} s \u00b7 ` +
			`${d.health.messages} batches, ${d.health.records_verified} records verified, ` +
			`${d.health.records_failed} failed \u00b7 rounds ${d.health.rounds_reported} settled, ` +
			`${d.health.rounds_halted} halted \u00b7 ${d.health.reports_final} final reports`));
	}
	const feeds = document.getElementById('feeds');
	feeds.replaceChildren(...d.feeds.map(feedCard));
	const gwState = {};
	for (const g of d.gateways)
		gwState[g.id] = g.state;
	rows(document.querySelector('#gateways tbody'), d.gateways, g => [
		[g.id, 'mono'], [g.site], [g.state, 'state-' + g.state], [g.reason],
		[g.tier], [g.records], [g.verified], [g.bad], [g.pending],
		[age(g.last_record_age_s), 'last-record'],
		[beaconAge(g.beacon), 'beacon' + (g.beacon && g.beacon.class !== 'fresh' ? ' bad' : '')],
		[reported(g.reported), 'reported']]);
	rows(document.querySelector('#devices tbody'), d.devices, v => [
		[v.device, 'mono'], [v.feed], [v.gateway, 'mono'], [v.stream], [v.tier],
		[(v.reputation_ppm / 1e6).toFixed(3)], [sparkline(v.reputation_history || []), 'spark'],
		[gwState[v.gateway] || '?', 'state-' + (gwState[v.gateway] || '')]]);
	document.getElementById('updated').textContent = new Date().toISOString();
}

async function poll() {
	try {
		const r = await fetch('/api/v1/status', { cache: 'no-store' });
		if (!r.ok)
			throw new Error(`HTTP ${r.status}`);
		render(await r.json());
	} catch (e) {
		const h = document.getElementById('health');
		h.replaceChildren(el('span', { class: 'bad' }, `cannot reach the node: ${e.message}`));
	}
	setTimeout(poll, 1000);
}

poll();
