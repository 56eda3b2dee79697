/*
 * studio.js - the Studio page (index.html; docs/studio.md).  Plain script,
 * no library, nothing but this origin: the data comes from /_ui/api/
 * (JSON, behind each endpoint's own credential), scoring from the
 * endpoint's /score as any client calls it.
 *
 * The page is routed by its hash: #/ lists the endpoints, #/NAME/TAB shows
 * one endpoint's tab (details, test, consume, traffic, monitoring), so that
 * a view can be linked.  The key or token the user types is kept in one
 * variable of this script for as long as the tab lives: never in storage,
 * a cookie or the URL.  While an endpoint is open and the tab visible, its
 * details and counters are polled every 2 s and its log lines every 5 s.
 */
'use strict';
(function () {
	const TABS = ['details', 'test', 'consume', 'traffic', 'monitoring'];
	const NAME_RE = /^[A-Za-z][A-Za-z0-9-]*$/;
	const POLL_MS = 2000, LOG_POLL_MS = 5000;
	const HISTORY_MS = 5 * 60 * 1000, WINDOW_MS = 60 * 1000;
	const SIDE = 28;   /* the drawing: 28x28 pixels, 0..255, white on black like Fashion-MNIST */
	const COLOURS = ['#0b57d0', '#8a4b00', '#1a7f37', '#a40e26', '#6639ba', '#0a6b75'];
	const CRED = {
		key: { label: 'Key', query: 'primaryKey', placeholder: '<key>' },
		aml_token: { label: 'Token', query: 'accessToken', placeholder: '<token>' },
	};

	const $ = (id) => document.getElementById(id);
	const ep = {
		name: '', cred: '', tab: 'details', details: null, detailsText: '', authMode: '',
		connected: false, timers: [], busy: {}, history: [], example: null, rawEdited: false,
	};
	let listing = null;   /* the answer of /_ui/api/endpoints, once */

	/* el('td', {className: 'num'}, 'text', child...): an element; text goes in as text. */
	function el(tag, props, ...kids) {
		const e = document.createElement(tag);
		Object.assign(e, props || {});
		for (const k of kids)
			e.append(k instanceof Node ? k : document.createTextNode(String(k)));
		return e;
	}
	function setText(id, text) { $(id).textContent = text; }
	function banner(text) { setText('banner', text || ''); }

	/* ---- the data routes ---- */

	/* GET PATH with the credential: {status, body (parsed JSON or null), headers}. */
	async function api(path, cred) {
		const headers = cred ? { Authorization: 'Bearer ' + cred } : {};
		const r = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
		let body = null;
		try { body = await r.json(); } catch (e) { body = null; }
		return { status: r.status, body, headers: r.headers };
	}
	function failure(r) {
		const msg = r.body && r.body.message ? r.body.message : 'no message';
		return r.status + ': ' + msg;
	}
	function epPath(suffix) { return '/_ui/api/endpoints/' + encodeURIComponent(ep.name) + (suffix || ''); }

	/* ---- routing ---- */

	function route() {
		const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
		const name = parts[0] || '';
		if (!name) {
			showList();
			return;
		}
		if (!NAME_RE.test(name)) {
			banner('"' + name + '" is not an endpoint name.');
			showList();
			return;
		}
		showEndpoint(name, TABS.includes(parts[1]) ? parts[1] : 'details');
	}
	function go(name, tab) {
		const hash = '#/' + encodeURIComponent(name) + (tab && tab !== 'details' ? '/' + tab : '');
		if (location.hash !== hash)
			location.hash = hash;
		else
			route();
	}
	function crumbs(name) {
		const ol = $('crumbs');
		ol.replaceChildren(el('li', {}, el('a', { href: '#/' }, 'Endpoints')));
		if (name)
			ol.append(el('li', {}, el('a', { href: '#/' + encodeURIComponent(name), ariaCurrent: 'page' }, name)));
	}

	/* ---- the list ---- */

	async function loadListing() {
		if (listing)
			return listing;
		try {
			const r = await api('/_ui/api/endpoints');
			if (r.status !== 200 || !r.body)
				throw new Error(failure(r));
			listing = r.body;
		} catch (e) {
			banner('The endpoint list did not load: ' + e.message);
			listing = { list: false, endpoints: [] };
		}
		return listing;
	}
	async function showList() {
		leaveEndpoint();
		crumbs('');
		document.title = 'Endpoints - scorepoint Studio';
		$('ep-view').hidden = true;
		$('list-view').hidden = false;
		const l = await loadListing();
		$('open-form').hidden = l.list;
		$('list-table').hidden = !l.list || l.endpoints.length === 0;
		$('list-empty').hidden = !l.list || l.endpoints.length > 0;
		$('list-body').replaceChildren(...l.endpoints.map((e) => el('tr', {},
			el('td', {}, el('a', { href: '#/' + encodeURIComponent(e.name) }, e.name)),
			el('td', {}, e.auth_mode))));
	}
	$('open-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const name = $('open-name').value.trim();
		if (NAME_RE.test(name))
			go(name, 'details');
	});

	/* ---- one endpoint: the credential and the polls ---- */

	function leaveEndpoint() {
		stopPolls();
		ep.name = '';
	}
	function stopPolls() {
		ep.timers.forEach(clearInterval);
		ep.timers = [];
	}
	async function showEndpoint(name, tab) {
		$('list-view').hidden = true;
		$('ep-view').hidden = false;
		if (name !== ep.name)
			openEndpoint(name);
		selectTab(tab, false);
		document.title = name + ' - ' + tab + ' - scorepoint Studio';
	}
	function openEndpoint(name) {
		stopPolls();
		Object.assign(ep, { name, cred: '', details: null, detailsText: '', connected: false, history: [],
			example: null, rawEdited: false, busy: {} });
		crumbs(name);
		banner('');
		setText('ep-title', name);
		setText('cred-error', '');
		$('cred').value = '';
		clearEndpointViews();
		const known = listing && listing.endpoints.find((e) => e.name === name);
		credLabels(known ? known.auth_mode : '');
		$('cred').focus();
	}
	function credLabels(mode) {
		ep.authMode = mode;
		const c = CRED[mode];
		setText('cred-label', c ? c.label : 'Key or token');
		setText('cred-cmd', 'scorepoint online-endpoint get-credentials --name ' + ep.name + ' --query ' +
			(c ? c.query : 'primaryKey') + ' -o tsv');
	}
	$('cred-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		ep.cred = $('cred').value.trim();
		connect();
	});
	async function connect() {
		stopPolls();
		ep.connected = false;
		setText('cred-error', '');
		if (!ep.cred) {
			const what = (CRED[ep.authMode] || { label: 'key' }).label.toLowerCase();
			setText('cred-error', 'Type the endpoint\'s ' + what + ' first.');
			return;
		}
		if (!(await poll('details', '', renderDetails, true)))
			return;
		ep.connected = true;
		loadExample();
		refreshMetrics();
		refreshLogs();
		ep.timers.push(setInterval(() => { if (!document.hidden) { refreshDetails(); refreshMetrics(); } }, POLL_MS));
		ep.timers.push(setInterval(() => { if (!document.hidden) refreshLogs(); }, LOG_POLL_MS));
	}
	/* One poll of KIND at a time (unless forced); an answer to another
	 * endpoint or credential than the current one is dropped; a refused
	 * credential stops the polls. */
	async function poll(kind, suffix, render, force) {
		if (ep.busy[kind] && !force)
			return false;
		ep.busy[kind] = true;
		const name = ep.name, cred = ep.cred;
		try {
			const r = await api(epPath(suffix), cred);
			if (name !== ep.name || cred !== ep.cred)
				return false;
			if (r.status === 200 && r.body) {
				banner('');
				render(r.body);
				return true;
			}
			if (r.status === 401 || r.status === 403 || r.status === 404) {
				stopPolls();
				ep.connected = false;
				setText('cred-error', failure(r));
			} else {
				banner('GET ' + epPath(suffix) + ': ' + failure(r));
			}
		} catch (e) {
			banner('The server did not answer (' + e.message + '); retrying.');
		} finally {
			ep.busy[kind] = false;
		}
		return false;
	}
	const refreshDetails = () => poll('details', '', renderDetails);
	const refreshMetrics = () => poll('metrics', '/metrics', renderMetrics);
	const refreshLogs = () => poll('logs', '/logs', renderLogs);

	/* ---- tabs (an ARIA tablist: arrows, Home and End move; the hash follows) ---- */

	function selectTab(tab, focus) {
		ep.tab = tab;
		for (const b of document.querySelectorAll('[role="tab"]')) {
			const on = b.dataset.tab === tab;
			b.setAttribute('aria-selected', on ? 'true' : 'false');
			b.tabIndex = on ? 0 : -1;
			$(b.getAttribute('aria-controls')).hidden = !on;
			if (on && focus)
				b.focus();
		}
		if (tab === 'monitoring')
			drawChart();
	}
	$('tabs').addEventListener('click', (ev) => {
		const b = ev.target.closest('[role="tab"]');
		if (b)
			go(ep.name, b.dataset.tab);
	});
	$('tabs').addEventListener('keydown', (ev) => {
		const i = TABS.indexOf(ep.tab);
		const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[ev.key];
		if (to === undefined)
			return;
		ev.preventDefault();
		const tab = TABS[(to + TABS.length) % TABS.length];
		go(ep.name, tab);
		selectTab(tab, true);
	});

	/* ---- details (and what the other tabs take from them) ---- */

	function clearEndpointViews() {
		for (const id of ['d-auth', 'd-desc', 'd-score', 'd-swagger', 'r-error', 'r-top', 'r-kind', 'r-raw'])
			setText(id, '');
		for (const id of ['d-deps', 'r-bars', 't-list', 'm-body', 'l-body', 'm-legend'])
			$(id).replaceChildren();
		$('r-facts').hidden = true;
		$('raw').value = '';
		$('dep').replaceChildren(el('option', { value: '' }, 'Let traffic decide'));
		renderConsume();
		drawChart();
	}
	function full(path) { return location.origin + path; }
	function shape(d) { return d.input_shape ? d.input_shape.join(' x ') : String(d.input_width); }
	function renderDetails(d) {
		const text = JSON.stringify(d);
		if (text === ep.detailsText)
			return;
		ep.detailsText = text;
		ep.details = d;
		credLabels(d.auth_mode);
		setText('d-auth', d.auth_mode);
		setText('d-desc', d.description === null ? '(none)' : d.description);
		setText('d-score', full(d.scoring_uri));
		setText('d-swagger', full(d.swagger_uri));
		$('d-deps').replaceChildren(...d.deployments.map((x) => el('tr', {},
			el('td', {}, x.name), el('td', {}, x.model), el('td', {}, x.model_version),
			el('td', {}, shape(x) + ' (' + x.input_width + ' values)'),
			el('td', {}, x.output_width + ', ' + x.postprocess),
			el('td', {}, x.labels ? x.labels.join(', ') : '(none)'),
			el('td', { className: 'num' }, x.request_timeout_ms + ' ms'),
			el('td', { className: 'num' }, x.instance_count),
			el('td', { className: 'num' }, (d.traffic[x.name] || 0) + ' %'))));
		renderDeploymentChoice(d);
		renderTraffic(d);
		renderConsume();
	}
	function renderDeploymentChoice(d) {
		const sel = $('dep'), was = sel.value;
		sel.replaceChildren(el('option', { value: '' }, 'Let traffic decide'),
			...d.deployments.map((x) => el('option', { value: x.name }, x.name)));
		sel.value = d.deployments.some((x) => x.name === was) ? was : '';
	}

	/* ---- traffic ---- */

	function bar(kind, pct) {
		const fill = el('div', { className: 'fill' + (kind === 'mirror' ? ' mirror' : '') });
		fill.style.width = Math.max(0, Math.min(100, pct)) + '%';
		const track = el('div', { className: 'track', role: 'meter', ariaLabel: kind + ' traffic' });
		track.setAttribute('aria-valuemin', '0');
		track.setAttribute('aria-valuemax', '100');
		track.setAttribute('aria-valuenow', String(pct));
		track.append(fill);
		return el('div', { className: 'bar ' + kind }, el('span', {}, kind), track, el('span', { className: 'val' },
			pct + ' %'));
	}
	function renderTraffic(d) {
		$('t-list').replaceChildren(...d.deployments.map((x) => {
			const box = el('div', { className: 'dep' }, el('h3', {}, x.name),
				bar('live', d.traffic[x.name] || 0), bar('mirror', d.mirror_traffic[x.name] || 0));
			box.dataset.dep = x.name;
			return box;
		}));
		const split = d.deployments.map((x) => x.name + '=' + (d.traffic[x.name] || 0)).join(' ');
		setText('t-cmd', 'scorepoint online-endpoint update --name ' + d.name + ' --traffic "' + split + '"');
	}

	/* ---- consume ---- */

	function renderConsume() {
		const d = ep.details;
		const uri = d ? full(d.scoring_uri) : full('/' + ep.name + '/score');
		const c = CRED[d ? d.auth_mode : ep.authMode] || CRED.key;
		const width = d && d.deployments.length ? d.deployments[0].input_width : 784;
		const cmd = 'scorepoint online-endpoint get-credentials --name ' + ep.name + ' --query ' + c.query + ' -o tsv';
		setText('c-placeholder', c.placeholder);
		setText('c-cmd', cmd);
		setText('c-curl', [
			'curl -X POST "' + uri + '" \\',
			'  -H "Authorization: Bearer ' + c.placeholder + '" \\',
			'  -H "Content-Type: application/json" \\',
			'  --data @test_data/images_azureml.json'].join('\n'));
		setText('c-py', [
			'import requests', '',
			'scoring_uri = "' + uri + '"',
			'key = "' + c.placeholder + '"  # ' + cmd, '',
			'# The tutorial\'s payload: one row per image, ' + width + ' pixel values from 0 to 1.',
			'payload = {',
			'    "input_data": {',
			'        "columns": [f"col_{i}" for i in range(' + width + ')],',
			'        "index": [0],',
			'        "data": [[0.0] * ' + width + '],',
			'    }',
			'}',
			'headers = {"Authorization": f"Bearer {key}"}',
			'# headers["azureml-model-deployment"] = "blue"  # to choose the deployment',
			'response = requests.post(scoring_uri, json=payload, headers=headers, timeout=30)',
			'response.raise_for_status()',
			'print(response.json())'].join('\n'));
		setText('c-js', [
			'const scoringUri = "' + uri + '";',
			'const key = "' + c.placeholder + '"; // ' + cmd, '',
			'// The tutorial\'s payload: one row per image, ' + width + ' pixel values from 0 to 1.',
			'const payload = {',
			'  input_data: {',
			'    columns: Array.from({ length: ' + width + ' }, (_, i) => `col_${i}`),',
			'    index: [0],',
			'    data: [new Array(' + width + ').fill(0)],',
			'  },',
			'};',
			'const response = await fetch(scoringUri, {',
			'  method: "POST",',
			'  headers: { "Authorization": `Bearer ${key}`, "Content-Type": "application/json" },',
			'  body: JSON.stringify(payload),',
			'});',
			'if (!response.ok) throw new Error(`${response.status}: ${(await response.json()).message}`);',
			'console.log(await response.json());'].join('\n'));
	}

	/* ---- test: the drawing ---- */

	const px = new Uint8Array(SIDE * SIDE);
	const pad = $('pad'), padCtx = pad.getContext('2d');
	const cursor = { x: 13, y: 13, shown: false };
	let stroke = null;   /* the last point of the stroke under way, in pixel units */

	function drawPad() {
		const img = padCtx.createImageData(SIDE, SIDE);
		for (let i = 0; i < px.length; i++) {
			img.data.set([px[i], px[i], px[i], 255], i * 4);
		}
		if (cursor.shown)
			img.data.set([232, 162, 0, 255], (cursor.y * SIDE + cursor.x) * 4);
		padCtx.putImageData(img, 0, 0);
	}
	function ink() {
		const v = Math.round(Number($('ink').value));
		return Number.isFinite(v) ? Math.max(0, Math.min(255, v)) : 255;
	}
	/* The brush at (fx, fy), in pixel units (a pixel's centre is at +0.5).
	 * soft: full ink within 0.6 px of the point, fading to nothing at 1.8 px,
	 * kept where a pixel is already brighter: strokes with soft edges, as
	 * Fashion-MNIST's anti-aliased scans look.  pixel: the one pixel under
	 * the point becomes exactly the ink value.  erase: a 1.2 px disc to 0. */
	const BRUSHES = {
		soft(fx, fy, v) {
			eachNear(fx, fy, 1.8, (i, d) => {
				const t = Math.min(1, Math.max(0, (1.8 - d) / 1.2));
				px[i] = Math.max(px[i], Math.round(v * t * t * (3 - 2 * t)));
			});
		},
		pixel(fx, fy, v) {
			const x = Math.floor(fx), y = Math.floor(fy);
			if (x >= 0 && x < SIDE && y >= 0 && y < SIDE)
				px[y * SIDE + x] = v;
		},
		erase(fx, fy) { eachNear(fx, fy, 1.2, (i) => { px[i] = 0; }); },
	};
	function eachNear(fx, fy, r, fn) {
		for (let y = Math.max(0, Math.floor(fy - r)); y <= Math.min(SIDE - 1, Math.floor(fy + r)); y++) {
			for (let x = Math.max(0, Math.floor(fx - r)); x <= Math.min(SIDE - 1, Math.floor(fx + r)); x++) {
				const d = Math.hypot(x + 0.5 - fx, y + 0.5 - fy);
				if (d <= r)
					fn(y * SIDE + x, d);
			}
		}
	}
	function paint(fx, fy) { BRUSHES[$('brush').value](fx, fy, ink()); }
	function padPoint(ev) {
		const r = pad.getBoundingClientRect();
		return { x: (ev.clientX - r.left) / r.width * SIDE, y: (ev.clientY - r.top) / r.height * SIDE };
	}
	/* A stroke from the last point: the soft brush every quarter pixel, so
	 * that a fast move leaves no gaps; the exact pixel brush per pixel. */
	function strokeTo(p) {
		const from = stroke || p;
		const steps = Math.max(1, Math.ceil(Math.hypot(p.x - from.x, p.y - from.y) * 4));
		for (let s = stroke ? 1 : 0; s <= steps; s++)
			paint(from.x + (p.x - from.x) * s / steps, from.y + (p.y - from.y) * s / steps);
		stroke = p;
		drawPad();
	}
	pad.addEventListener('pointerdown', (ev) => {
		if (ev.button !== 0)
			return;
		ev.preventDefault();
		pad.setPointerCapture(ev.pointerId);
		stroke = null;
		cursor.shown = false;
		strokeTo(padPoint(ev));
	});
	pad.addEventListener('pointermove', (ev) => {
		if (stroke && pad.hasPointerCapture(ev.pointerId))
			strokeTo(padPoint(ev));
	});
	for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'])
		pad.addEventListener(type, () => { stroke = null; });
	pad.addEventListener('keydown', (ev) => {
		const move = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[ev.key];
		if (move) {
			cursor.x = Math.max(0, Math.min(SIDE - 1, cursor.x + move[0]));
			cursor.y = Math.max(0, Math.min(SIDE - 1, cursor.y + move[1]));
		} else if (ev.key === ' ' || ev.key === 'Enter') {
			paint(cursor.x + 0.5, cursor.y + 0.5);
		} else {
			return;
		}
		ev.preventDefault();
		cursor.shown = true;
		drawPad();
	});
	pad.addEventListener('blur', () => { cursor.shown = false; drawPad(); });
	$('clear').addEventListener('click', () => { px.fill(0); setText('upload-note', ''); drawPad(); });
	$('invert').addEventListener('click', () => {
		for (let i = 0; i < px.length; i++)
			px[i] = 255 - px[i];
		drawPad();
	});

	/* An image file, scaled into 28x28 (kept whole, centred) and made grey;
	 * a light background (the usual photo) is inverted to light on dark. */
	$('upload').addEventListener('change', () => {
		const file = $('upload').files[0];
		if (!file)
			return;
		const url = URL.createObjectURL(file);
		const img = new Image();
		img.onload = () => {
			URL.revokeObjectURL(url);
			const c = document.createElement('canvas');
			c.width = c.height = SIDE;
			const g = c.getContext('2d');
			g.fillStyle = '#ffffff';
			g.fillRect(0, 0, SIDE, SIDE);
			const k = SIDE / Math.max(img.naturalWidth, img.naturalHeight);
			const w = img.naturalWidth * k, h = img.naturalHeight * k;
			g.drawImage(img, (SIDE - w) / 2, (SIDE - h) / 2, w, h);
			const rgba = g.getImageData(0, 0, SIDE, SIDE).data;
			let border = 0, n = 0;
			for (let i = 0; i < px.length; i++) {
				px[i] = Math.round(0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2]);
				const x = i % SIDE, y = Math.floor(i / SIDE);
				if (x === 0 || y === 0 || x === SIDE - 1 || y === SIDE - 1) {
					border += px[i];
					n++;
				}
			}
			const flip = border / n > 127;
			if (flip)
				px.forEach((v, i) => { px[i] = 255 - v; });
			setText('upload-note', file.name + ': scaled to 28 x 28 grey' + (flip ?
				', inverted to light on dark as Fashion-MNIST is' : '') + '.');
			drawPad();
		};
		img.onerror = () => {
			URL.revokeObjectURL(url);
			setText('upload-note', file.name + ': not an image this browser can read.');
		};
		img.src = url;
		$('upload').value = '';
	});

	/* ---- test: the request ---- */

	/* The swagger example fills the raw JSON (plus params.top_k = the
	 * output width, so that every deployment answers every class's score). */
	async function loadExample() {
		const d = ep.details;
		try {
			const r = await api(d.swagger_uri, ep.cred);
			const ex = r.body && r.body.components && r.body.components.examples &&
				r.body.components.examples.AzureMLRequest;
			if (r.status !== 200 || !ex || !ex.value)
				return;
			ep.example = ex.value;
			if (!ep.rawEdited)
				$('raw').value = JSON.stringify(Object.assign({}, ex.value, { params: { top_k: topK() } }));
		} catch (e) {
			/* no example: the raw JSON stays as the user left it */
		}
	}
	$('raw').addEventListener('input', () => { ep.rawEdited = true; });
	$('send-form').addEventListener('change', (ev) => {
		if (ev.target.name === 'source')
			$('raw-box').hidden = ev.target.value !== 'json';
	});
	function chosen() {
		const d = ep.details, name = $('dep').value;
		return d ? d.deployments.filter((x) => !name || x.name === name) : [];
	}
	function topK() { return Math.max(1, ...chosen().map((x) => x.output_width)); }
	/* The tutorial's request for the drawing: one row, pixel / 255 in row
	 * order (as fixtures/test_data/images_azureml.json holds each image). */
	function drawingBody() {
		const cols = ep.example && ep.example.input_data && ep.example.input_data.columns;
		const columns = cols && cols.length === px.length ? cols : Array.from(px, (_, i) => 'col_' + i);
		const body = { input_data: { columns, index: [0], data: [Array.from(px, (v) => v / 255)] } };
		if (ep.details)
			body.params = { top_k: topK() };
		return JSON.stringify(body);
	}
	$('send-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const source = document.querySelector('input[name="source"]:checked').value;
		const cred = ep.cred || $('cred').value.trim();
		const headers = { 'Content-Type': 'application/json' };
		if (cred)
			headers.Authorization = 'Bearer ' + cred;
		if ($('dep').value)
			headers['azureml-model-deployment'] = $('dep').value;
		const body = source === 'drawing' ? drawingBody() : $('raw').value;
		$('send').disabled = true;
		try {
			const t0 = performance.now();
			const r = await fetch(ep.details ? ep.details.scoring_uri : '/' + ep.name + '/score',
				{ method: 'POST', headers, body, cache: 'no-store', credentials: 'omit' });
			const text = await r.text();
			showAnswer(r, text, performance.now() - t0);
		} catch (e) {
			setText('r-error', 'The request failed: ' + e.message);
		} finally {
			$('send').disabled = false;
		}
	});

	/* ---- test: the answer ---- */

	function showAnswer(r, text, ms) {
		let json = null;
		try { json = JSON.parse(text); } catch (e) { json = null; }
		const dep = r.headers.get('azureml-model-deployment') || '';
		$('r-facts').hidden = false;
		setText('r-status', r.status + (r.statusText ? ' ' + r.statusText : ''));
		setText('r-latency', ms.toFixed(1) + ' ms');
		setText('r-id', r.headers.get('x-request-id') || '(none)');
		setText('r-dep', dep || '(none)');
		setText('r-raw', text);
		setText('r-error', r.ok ? '' : r.status + ': ' + (json && json.message ? json.message : text));
		const info = ep.details && ep.details.deployments.find((x) => x.name === dep);
		const scores = r.ok ? scoresOf(json, info) : null;
		renderBars(scores, info);
	}
	/* The first row's scores as [{index, score, label}], from the top_k
	 * strings "score:index[:label]" or a row dict {"0": v, ...}; null else. */
	function scoresOf(json, info) {
		const row = Array.isArray(json) ? json[0] : null;
		const label = (i, given) => given || (info && info.labels && info.labels[i]) || 'class ' + i;
		if (Array.isArray(row) && row.length && row.every((s) => typeof s === 'string')) {
			return row.map((s) => {
				const m = /^([^:]+):(\d+)(?::(.*))?$/s.exec(s);
				return m ? { score: Number(m[1]), index: Number(m[2]), label: label(Number(m[2]), m[3]) } : null;
			}).filter(Boolean);
		}
		if (row && typeof row === 'object' && !Array.isArray(row))
			return Object.keys(row).map((k) => ({ score: Number(row[k]), index: Number(k), label: label(Number(k)) }))
				.sort((a, b) => b.score - a.score);
		if (typeof row === 'string')
			return [{ score: NaN, index: -1, label: row }];
		return null;
	}
	/* Probabilities as the deployment answered them, or the softmax of its
	 * scores computed here (over every class it sent). */
	function probabilities(scores, info) {
		if (info && info.postprocess === 'probabilities')
			return scores.map((s) => s.score);
		const max = Math.max(...scores.map((s) => s.score));
		const e = scores.map((s) => Math.exp(s.score - max));
		const sum = e.reduce((a, b) => a + b, 0);
		return e.map((v) => v / sum);
	}
	function renderBars(scores, info) {
		$('r-bars').replaceChildren();
		setText('r-top', '');
		setText('r-kind', '');
		if (!scores || !scores.length)
			return;
		setText('r-top', scores[0].label);
		if (scores[0].index < 0)
			return;
		const p = probabilities(scores, info);
		setText('r-kind', info && info.postprocess === 'probabilities' ? 'Probabilities, as the deployment answered.' :
			'Probabilities: the softmax of the scores the deployment answered, computed in this page.');
		$('r-bars').replaceChildren(...scores.map((s, i) => {
			const pct = (p[i] * 100).toFixed(2);
			const fill = el('div', { className: 'fill' });
			fill.style.width = pct + '%';
			const li = el('li', { className: i === 0 ? 'best' : '' }, el('span', { className: 'name' }, s.label),
				el('div', { className: 'track' }, fill), el('span', { className: 'val' }, pct + ' %'));
			li.dataset.index = String(s.index);
			return li;
		}));
	}

	/* ---- monitoring ---- */

	/* Counters are cumulative: each poll is kept (5 minutes of them) and the
	 * rates and quantiles come from differences between two polls. */
	function renderMetrics(m) {
		$('m-off').hidden = m.metrics;
		const sample = { t: m.time_ms, deps: {} };
		for (const d of m.deployments)
			sample.deps[d.name] = d;
		const h = ep.history;
		if (h.length && (sample.t <= h[h.length - 1].t || shrank(h[h.length - 1], sample)))
			h.length = 0;   /* a clock step or new counters: start again */
		h.push(sample);
		while (h.length > 2 && sample.t - h[1].t > HISTORY_MS)
			h.shift();
		const then = h.find((s) => sample.t - s.t <= WINDOW_MS) || sample;
		$('m-body').replaceChildren(...m.deployments.map((d) => metricsRow(d, then.deps[d.name], sample.t - then.t)));
		drawChart();
	}
	function shrank(a, b) {
		return Object.keys(b.deps).some((n) => a.deps[n] && b.deps[n].requests < a.deps[n].requests);
	}
	function metricsRow(d, old, dt) {
		const delta = old && dt > 0;
		const rate = delta ? ((d.requests - old.requests) * 1000 / dt).toFixed(2) : '-';
		const counts = delta ? d.latency.counts.map((c, i) => c - old.latency.counts[i]) : null;
		const tr = el('tr', {}, el('th', { scope: 'row' }, d.name),
			el('td', { className: 'num requests' }, d.requests),
			el('td', { className: 'num errors' }, d.errors),
			el('td', { className: 'num rate' }, rate),
			el('td', { className: 'num p50' }, counts ? quantile(d.latency.le, counts, 0.5) : '-'),
			el('td', { className: 'num p99' }, counts ? quantile(d.latency.le, counts, 0.99) : '-'));
		tr.dataset.dep = d.name;
		return tr;
	}
	/* The q-quantile of cumulative bucket counts (bounds in seconds, the
	 * last null = +Inf), interpolated inside its bucket as Prometheus does. */
	function quantile(le, counts, q) {
		const total = counts[counts.length - 1];
		if (!total)
			return '-';
		const rank = q * total;
		let i = 0;
		while (i < counts.length - 1 && counts[i] < rank)
			i++;
		const lo = i ? le[i - 1] : 0;
		if (le[i] === null)
			return '> ' + ms(lo);
		const below = i ? counts[i - 1] : 0;
		const inside = counts[i] - below;
		return ms(lo + (le[i] - lo) * (inside ? (rank - below) / inside : 1));
	}
	function ms(seconds) {
		const v = seconds * 1000;
		return (v < 10 ? v.toFixed(2) : v.toFixed(0)) + ' ms';
	}
	/* Requests per second of each deployment between successive polls. */
	function drawChart() {
		const c = $('m-chart'), g = c.getContext('2d');
		const W = c.width, H = c.height, L = 44, B = 20;
		g.clearRect(0, 0, W, H);
		g.fillStyle = '#ffffff';
		g.fillRect(0, 0, W, H);
		const h = ep.history;
		const names = h.length ? Object.keys(h[h.length - 1].deps) : [];
		const series = names.map((n) => h.slice(1).map((s, i) => {
			const a = h[i].deps[n], b = s.deps[n];
			return { t: s.t, v: a && b ? (b.requests - a.requests) * 1000 / (s.t - h[i].t) : 0 };
		}));
		const top = Math.max(1, ...series.flat().map((p) => p.v));
		const now = h.length ? h[h.length - 1].t : 0;
		g.fillStyle = '#4a5360';
		g.font = '12px system-ui, sans-serif';
		g.fillText(top.toFixed(top < 10 ? 1 : 0) + '/s', 2, 12);
		g.fillText('0', 2, H - B);
		g.fillText('-5 min', L, H - 4);
		g.fillText('now', W - 28, H - 4);
		g.strokeStyle = '#c9d1d9';
		g.strokeRect(L, 2, W - L - 2, H - B - 2);
		series.forEach((pts, k) => {
			g.strokeStyle = COLOURS[k % COLOURS.length];
			g.lineWidth = 2;
			g.beginPath();
			pts.forEach((p, i) => {
				const x = L + (W - L - 2) * (1 - (now - p.t) / HISTORY_MS);
				const y = H - B - (H - B - 4) * p.v / top;
				if (i)
					g.lineTo(x, y);
				else
					g.moveTo(x, y);
			});
			g.stroke();
		});
		$('m-legend').replaceChildren(...names.map((n, k) => {
			const sw = el('span', { className: 'swatch' });
			sw.style.background = COLOURS[k % COLOURS.length];
			return el('span', {}, sw, n);
		}));
	}

	/* ---- the request log ---- */

	function renderLogs(l) {
		$('l-off').hidden = l.log;
		const rows = l.lines.slice().reverse().map((line) => {
			let o;
			try { o = JSON.parse(line); } catch (e) { o = null; }
			if (!o || typeof o !== 'object')
				return el('tr', {}, el('td', { colSpan: 7 }, line));
			return el('tr', {}, el('td', {}, o.time || ''), el('td', {}, o.deployment || '-'),
				el('td', {}, (o.method || '') + ' ' + (o.route || '')), el('td', { className: 'num' }, o.status),
				el('td', { className: 'num' }, o.rows), el('td', { className: 'num' }, o.us),
				el('td', {}, el('code', {}, o.request_id || '')));
		});
		$('l-body').replaceChildren(...rows);
	}

	window.addEventListener('hashchange', route);
	drawPad();
	route();
})();
