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

// The plot: settled values as a line with points and the tolerance band
// (value +- tau), halted rounds as red marks with their reason.
function plot(feed) {
	const s = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`,
			       role: 'img', 'aria-label': `rounds of ${feed.name}` });
	const fin = feed.final;
	const settled = fin.filter(r => r.status === 0);
	const halted = fin.filter(r => r.status !== 0);
	s.dataset.points = settled.length;
	s.dataset.halts = halted.length;
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
	if (!settled.length) { lo = 0; hi = 1; }
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
	return d;
}

function rows(tbody, list, cells) {
	tbody.replaceChildren();
	for (const item of list) {
		const tr = el('tr');
		for (const [text, cls] of cells(item))
			tr.appendChild(el('td', cls ? { class: cls } : {}, text));
		tbody.appendChild(tr);
	}
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
		[g.tier], [g.records], [g.verified], [g.bad]]);
	rows(document.querySelector('#devices tbody'), d.devices, v => [
		[v.device, 'mono'], [v.feed], [v.gateway, 'mono'], [v.stream], [v.tier],
		[(v.reputation_ppm / 1e6).toFixed(3)],
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
