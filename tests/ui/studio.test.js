/*
 * tests/ui/studio.test.js - the Studio page in headless chromium, run by
 * tests/e2e/studio.sh (which makes the tutorial's four endpoints, serves
 * them with `scorepoint serve` and passes, in the environment:
 * STUDIO_URL http://127.0.0.1:PORT, STUDIO_SP the scorepoint CLI, STUDIO_WS
 * the workspace, STUDIO_OUT the folder for screenshots, CHROMIUM the
 * browser).  Prints TAP lines ("ok - ..." / "not ok - ..." and "#   ...").
 *
 * What it proves: the page lists the endpoints; the first tutorial image,
 * drawn pixel by pixel through the canvas's own pointer handling (mouse
 * clicks with the "Exact pixel" brush), is sent as exactly the tutorial's
 * 784 values and answered "Ankle Boot", with the probabilities of the
 * API's own answer to the same body; a wrong key shows the server's 401
 * message; the CLI's traffic split reaches the bars without a reload; the
 * counters and the request log follow requests; no console error but the
 * browser's line for each deliberate 401; no request leaves the server's
 * origin; axe-core finds nothing serious or critical on any tab; 390 px
 * wide, nothing overflows sideways.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const BASE = process.env.STUDIO_URL;
const SP = process.env.STUDIO_SP;
const WS = process.env.STUDIO_WS;
const OUT = process.env.STUDIO_OUT;
const REQ = JSON.parse(fs.readFileSync('fixtures/test_data/images_azureml.json', 'utf8'));
const LABELS = fs.readFileSync('fixtures/labels.txt', 'utf8').trim().split('\n');
const TABS = ['details', 'test', 'consume', 'traffic', 'monitoring'];
const RESOURCE_401 = 'Failed to load resource: the server responded with a status of 401 (Unauthorized)';
const WAIT_MS = 15000;

let failed = 0;
function ok(name) { console.log('ok - ' + name); }
function notOk(name, ...diag) {
	failed++;
	console.log('not ok - ' + name);
	for (const d of diag)
		for (const line of String(d).split('\n').slice(0, 20))
			console.log('#   ' + line);
}
function check(name, cond, ...diag) { if (cond) ok(name); else notOk(name, ...diag); }
/* step NAME FN: FN's exception is one failure named NAME, and the run goes on. */
async function step(name, fn) {
	try {
		await fn();
	} catch (e) {
		notOk(name, e.stack || e.message);
	}
}

function cli(...args) { return execFileSync(SP, [...args, '--workspace', WS], { encoding: 'utf8' }).trim(); }
function credential(name, query) {
	return cli('online-endpoint', 'get-credentials', '--name', name, '--query', query, '-o', 'tsv');
}
/* POST BODY (a string) to NAME's /score as any client does. */
async function score(name, key, body, deployment) {
	const headers = { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' };
	if (deployment)
		headers['azureml-model-deployment'] = deployment;
	const r = await fetch(BASE + '/' + name + '/score', { method: 'POST', headers, body });
	return { status: r.status, id: r.headers.get('x-request-id'), text: await r.text() };
}
function softmax(v) {
	const m = Math.max(...v), e = v.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b, 0);
	return e.map((x) => x / s);
}
/* FN() until it is truthy, at most WAIT_MS: its last value. */
async function until(page, fn, ms) {
	const end = Date.now() + (ms || WAIT_MS);
	let v;
	while (!(v = await fn()) && Date.now() < end)
		await page.waitForTimeout(200);
	return v;
}

async function connect(page, name, key) {
	await page.goto(BASE + '/_ui/#/' + name);
	await page.fill('#cred', key);
	await page.click('#cred-use');
	const want = BASE + '/' + name + '/score';
	return until(page, async () => (await page.textContent('#d-score')) === want);
}
async function tab(page, t) {
	await page.click('#tab-' + t);
	await page.waitForSelector('#panel-' + t + ':not([hidden])');
}
async function axeCheck(page, where) {
	await page.evaluate(axeSource);
	const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
	const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	check('axe-core: no serious or critical violation on ' + where, bad.length === 0,
		...bad.map((v) => v.impact + ' ' + v.id + ': ' + v.help + ' at ' +
			v.nodes.map((n) => n.target.join(' ')).join(', ')));
}
async function shot(page, file) { await page.screenshot({ path: path.join(OUT, file), fullPage: true }); }

/* The first tutorial image through the canvas: the "Exact pixel" brush,
 * one mouse click at the centre of each lit pixel, the ink set to its value. */
async function drawImage(page, row) {
	await page.selectOption('#brush', 'pixel');
	await page.click('#clear');
	const box = await page.locator('#pad').boundingBox();
	const cell = box.width / 28;
	const byValue = new Map();
	row.forEach((v, i) => {
		const p = Math.round(v * 255);
		if (p)
			byValue.set(p, (byValue.get(p) || []).concat(i));
	});
	for (const [p, cells] of byValue) {
		await page.fill('#ink', String(p));
		for (const i of cells)
			await page.mouse.click(box.x + (i % 28 + 0.5) * cell, box.y + (Math.floor(i / 28) + 0.5) * cell);
	}
}

async function main() {
	const origin = new URL(BASE).origin;
	const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--no-sandbox'], headless: true });
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	context.setDefaultTimeout(8000);
	const page = await context.newPage();
	const urls = [], foreign = [], consoleErrors = [], pageErrors = [], scoreBodies = [], apiTexts = [];
	const allowed401 = new Set();
	await context.route('**/*', (route) => {
		const u = route.request().url();
		urls.push(u);
		if (new URL(u).origin !== origin) {
			foreign.push(u);
			return route.abort();
		}
		return route.continue();
	});
	page.on('request', (r) => {
		if (r.method() === 'POST' && /\/score$/.test(r.url()))
			scoreBodies.push({ url: r.url(), body: r.postData(), headers: r.headers() });
	});
	page.on('response', async (r) => {
		if (r.url().includes('/_ui/api/'))
			apiTexts.push(await r.text().catch(() => ''));
	});
	page.on('console', (m) => {
		if (m.type() === 'error')
			consoleErrors.push({ text: m.text(), url: m.location().url });
	});
	page.on('pageerror', (e) => pageErrors.push(e.message));

	const key2 = credential('endpoint-online-2', 'primaryKey');
	const key4 = credential('endpoint-online-4', 'primaryKey');
	const token3 = credential('endpoint-online-3', 'accessToken');

	await step('the endpoint list', async () => {
		await page.goto(BASE + '/_ui/');
		await page.waitForSelector('#list-view:not([hidden])');
		await until(page, async () => (await page.locator('#list-body tr').count()) === 4);
		const rows = await page.locator('#list-body tr').allInnerTexts();
		check('the list (on: serve binds 127.0.0.1) names the four endpoints with their auth modes',
			rows.length === 4 && rows[2].includes('endpoint-online-3') && rows[2].includes('aml_token') &&
			rows[3].includes('endpoint-online-4') && rows[3].includes('key'), rows.join('\n'));
		await shot(page, 'list.png');
		await axeCheck(page, 'the endpoint list');
	});

	/* ---- endpoint 2: details, the drawing, the answer ---- */
	await step('endpoint-online-2 details', async () => {
		check('endpoint-online-2: the key connects; the scoring URI is a full URL',
			await connect(page, 'endpoint-online-2', key2), await page.textContent('#d-score'));
		const deps = await page.locator('#d-deps tr').allInnerTexts();
		check('details: deployment blue, model-online-2 version 1, 784 inputs, the labels, 5000 ms',
			deps.length === 1 && /blue\s+model-online-2\s+1\s+784/.test(deps[0]) && deps[0].includes('Ankle Boot') &&
			deps[0].includes('5000 ms'), deps.join('\n'));
		check('details: the swagger URI as a full URL',
			(await page.textContent('#d-swagger')) === BASE + '/endpoint-online-2/swagger.json');
		const text = await page.evaluate(() => document.body.innerText + document.documentElement.outerHTML);
		check('the page shows no key, token or secret', !text.includes(key2) && !text.includes(key4));
		const kept = await page.evaluate(() => JSON.stringify([Object.entries(localStorage),
			Object.entries(sessionStorage), document.cookie, location.href, history.length]));
		check('the key is kept in memory only: no storage, cookie or URL holds it',
			!kept.includes(key2) && JSON.parse(kept)[0].length === 0 && JSON.parse(kept)[1].length === 0 &&
			JSON.parse(kept)[2] === '', kept);
		await shot(page, 'details.png');
		await axeCheck(page, 'Details');
	});

	let sent = null;
	await step('the drawing sent', async () => {
		await tab(page, 'test');
		check('the Test tab is #/endpoint-online-2/test', page.url().endsWith('#/endpoint-online-2/test'), page.url());
		check('the raw JSON is the swagger example, with params.top_k',
			await until(page, async () => {
				const v = await page.inputValue('#raw');
				try {
					const j = JSON.parse(v);
					return j.input_data && j.params && j.params.top_k === 10;
				} catch (e) {
					return false;
				}
			}), await page.inputValue('#raw'));
		const row = REQ.input_data.data[0];
		await drawImage(page, row);
		const n = scoreBodies.length;
		await page.click('#send');
		await until(page, async () => (await page.textContent('#r-top')) !== '');
		sent = scoreBodies[n];
		const body = JSON.parse(sent.body);
		const data = body.input_data.data;
		const bad = row.map((v, i) => (data[0][i] === v ? '' : i + ': sent ' + data[0][i] + ', want ' + v))
			.filter(Boolean);
		check('the request: one row of 784 values, each exactly the tutorial image\'s pixel / 255',
			data.length === 1 && data[0].length === 784 && bad.length === 0, ...bad.slice(0, 5));
		check('the request: the tutorial\'s columns and index, params.top_k 10, the key, no deployment pinned',
			JSON.stringify(body.input_data.columns) === JSON.stringify(REQ.input_data.columns) &&
			JSON.stringify(body.input_data.index) === '[0]' && body.params.top_k === 10 &&
			sent.headers.authorization === 'Bearer ' + key2 && !sent.headers['azureml-model-deployment'],
			JSON.stringify(sent.headers));
	});

	await step('the answer shown', async () => {
		const api = await score('endpoint-online-2', key2, sent.body);
		const answer = JSON.parse(api.text)[0].map((s) => s.split(':'));
		const probs = softmax(answer.map((a) => Number(a[0])));
		check('the page says "Ankle Boot", as the API does', (await page.textContent('#r-top')) === 'Ankle Boot' &&
			answer[0][2] === 'Ankle Boot' && LABELS[Number(answer[0][1])] === 'Ankle Boot',
			await page.textContent('#r-top'));
		const bars = await page.$$eval('#r-bars li', (lis) => lis.map((li) => ({ index: Number(li.dataset.index),
			name: li.querySelector('.name').textContent, val: li.querySelector('.val').textContent,
			width: parseFloat(li.querySelector('.fill').style.width) })));
		const want = answer.map((a, i) => ({ index: Number(a[1]), name: a[2], val: (probs[i] * 100).toFixed(2) + ' %',
			width: Number((probs[i] * 100).toFixed(2)) }));
		check('ten bars: the softmax of the API\'s scores for the same body, as displayed (2 decimals of %)',
			JSON.stringify(bars) === JSON.stringify(want), 'page: ' + JSON.stringify(bars),
			'API:  ' + JSON.stringify(want));
		const status = await page.textContent('#r-status'), id = await page.textContent('#r-id');
		check('status 200, a latency, the x-request-id, deployment blue', status === '200 OK' &&
			/^\d+\.\d ms$/.test(await page.textContent('#r-latency')) &&
			/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) &&
			(await page.textContent('#r-dep')) === 'blue', status, id);
		await shot(page, 'test.png');
		/* docs/studio-test.png is a copy of this one: the tabs and the Test
		 * panel as 800 px wide, drawn at 85 % to stay small. */
		await page.setViewportSize({ width: 941, height: 900 });
		await page.evaluate(() => { document.documentElement.style.zoom = '0.85'; });
		const tabs = await page.locator('#tabs').boundingBox(), panel = await page.locator('#panel-test').boundingBox();
		await page.screenshot({ path: path.join(OUT, 'studio-test.png'), fullPage: true, clip: { x: panel.x - 10,
			y: tabs.y - 10, width: panel.width + 20, height: panel.y + panel.height - tabs.y + 10 } });
		await page.evaluate(() => { document.documentElement.style.zoom = ''; });
		await page.setViewportSize({ width: 1280, height: 900 });
		await axeCheck(page, 'Test');
	});

	await step('the raw JSON', async () => {
		await page.check('input[name="source"][value="json"]');
		await page.waitForSelector('#raw', { state: 'visible' });
		const raw = await page.inputValue('#raw');
		const n = scoreBodies.length, before = await page.textContent('#r-id');
		await page.selectOption('#dep', 'blue');
		await page.click('#send');
		await until(page, () => scoreBodies.length > n);
		const id = await until(page, async () => (await page.textContent('#r-id')) !== before &&
			(await page.textContent('#r-status')) === '200 OK' && page.textContent('#r-id'));
		check('raw JSON: the swagger example sent as it stands, deployment blue pinned, answered 200',
			scoreBodies[n].body === raw && scoreBodies[n].headers['azureml-model-deployment'] === 'blue' && id,
			await page.textContent('#r-status'));
		await page.selectOption('#dep', '');
		await page.check('input[name="source"][value="drawing"]');
	});

	await step('the soft brush and an upload', async () => {
		await page.click('#clear');
		await page.selectOption('#brush', 'soft');
		await page.fill('#ink', '255');
		const box = await page.locator('#pad').boundingBox();
		await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
		await page.mouse.down();
		await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.5, { steps: 8 });
		await page.mouse.up();
		const px = await page.evaluate(() => Array.from(document.getElementById('pad').getContext('2d')
			.getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)));
		const full = px.filter((v) => v === 255).length, soft = px.filter((v) => v > 0 && v < 255).length;
		check('the soft brush: a stroke of full ink with soft edges (' + full + ' full, ' + soft + ' partial pixels)',
			full >= 10 && soft >= 10 && px[14 * 28 + 14] === 255 && px[2 * 28 + 2] === 0);
		/* A photo-like image: a dark square on white, 100x50 px. */
		const png = await page.evaluate(async () => {
			const c = new OffscreenCanvas(100, 50), g = c.getContext('2d');
			g.fillStyle = '#fff';
			g.fillRect(0, 0, 100, 50);
			g.fillStyle = '#000';
			g.fillRect(40, 15, 20, 20);
			const b = await c.convertToBlob({ type: 'image/png' });
			return Array.from(new Uint8Array(await b.arrayBuffer()));
		});
		await page.setInputFiles('#upload', { name: 'square.png', mimeType: 'image/png', buffer: Buffer.from(png) });
		await until(page, async () => (await page.textContent('#upload-note')) !== '');
		const up = await page.evaluate(() => Array.from(document.getElementById('pad').getContext('2d')
			.getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)));
		check('an uploaded image: scaled into 28x28, grey, inverted to light on dark',
			up[14 * 28 + 14] === 255 && up[0] === 0 && up[27 * 28 + 27] === 0 &&
			(await page.textContent('#upload-note')).includes('inverted'), await page.textContent('#upload-note'));
	});

	await step('a wrong key', async () => {
		const wrong = await score('endpoint-online-2', 'not-the-key', '{}');
		const msg = JSON.parse(wrong.text).message;
		const detailsUrl = BASE + '/_ui/api/endpoints/endpoint-online-2';
		const r = await fetch(detailsUrl, { headers: { Authorization: 'Bearer not-the-key' } });
		const apiMsg = (await r.json()).message;
		allowed401.add(detailsUrl);
		allowed401.add(BASE + '/endpoint-online-2/score');
		await page.fill('#cred', 'not-the-key');
		await page.click('#cred-use');
		check('a wrong key: the server\'s 401 message where the key is typed',
			await until(page, async () => (await page.textContent('#cred-error')) === '401: ' + apiMsg) &&
			r.status === 401,
			await page.textContent('#cred-error'), apiMsg);
		await page.click('#send');
		check('a wrong key: the Test tab shows the 401 and its message', await until(page, async () =>
			(await page.textContent('#r-error')) === '401: ' + msg) && wrong.status === 401 &&
			(await page.textContent('#r-status')).startsWith('401'), await page.textContent('#r-error'), msg);
	});

	await step('Consume', async () => {
		await connect(page, 'endpoint-online-2', key2);
		await tab(page, 'consume');
		const uri = BASE + '/endpoint-online-2/score';
		const curl = await page.textContent('#c-curl'), py = await page.textContent('#c-py');
		const js = await page.textContent('#c-js');
		check('Consume: curl, Python and fetch with the scoring URI, "Authorization: Bearer <key>" and the payload',
			[curl, py, js].every((s) => s.includes(uri)) && curl.includes('Authorization: Bearer <key>') &&
			py.includes('"<key>"') && py.includes('f"Bearer {key}"') && js.includes('`Bearer ${key}`') &&
			py.includes('requests.post') && js.includes('fetch(') && curl.includes('images_azureml.json') &&
			['input_data', 'columns', 'index', 'data'].every((k) => py.includes(k) && js.includes(k)),
			curl, py, js);
		await shot(page, 'consume.png');
		await axeCheck(page, 'Consume');
		await page.goto(BASE + '/_ui/#/endpoint-online-3/consume');
		await page.fill('#cred', token3);
		await page.click('#cred-use');
		check('Consume for an aml_token endpoint: "Authorization: Bearer <token>"', await until(page, async () =>
			(await page.textContent('#c-curl')).includes('Authorization: Bearer <token>') &&
			(await page.textContent('#c-curl')).includes(BASE + '/endpoint-online-3/score')),
			await page.textContent('#c-curl'));
	});

	/* ---- endpoint 4: traffic and monitoring ---- */
	const bars = () => page.$$eval('#t-list .dep', (ds) => ds.map((d) => d.dataset.dep + ' ' +
		d.querySelector('.live .val').textContent + ' ' + d.querySelector('.live .fill').style.width + ' ' +
		d.querySelector('.mirror .val').textContent)).then((a) => a.join(', '));
	await step('Traffic', async () => {
		await connect(page, 'endpoint-online-4', key4);
		await tab(page, 'traffic');
		const before = await until(page, async () => (await bars()) === 'blue 100 % 100% 0 %, green 0 % 0% 0 %');
		check('Traffic: blue 100 %, green 0 %', before, await bars());
		await page.evaluate(() => { window.studioNoReload = 1; });
		cli('online-endpoint', 'update', '--name', 'endpoint-online-4', '--traffic', 'blue=90 green=10');
		const after = await until(page, async () => (await bars()) === 'blue 90 % 90% 0 %, green 10 % 10% 0 %');
		check('the CLI\'s "blue=90 green=10" reaches the bars, without a reload',
			after && (await page.evaluate(() => window.studioNoReload)) === 1, await bars());
		await shot(page, 'traffic.png');
		await axeCheck(page, 'Traffic');
	});

	await step('Monitoring', async () => {
		await tab(page, 'monitoring');
		const cell = (dep, c) => page.textContent('#m-body tr[data-dep="' + dep + '"] .' + c).catch(() => '');
		await until(page, async () => (await cell('blue', 'requests')) !== '');
		const before = Number(await cell('blue', 'requests'));
		const body = JSON.stringify(REQ);
		const ids = [];
		for (let i = 0; i < 5; i++)
			ids.push((await score('endpoint-online-4', key4, body, 'blue')).id);
		const errs = Number(await cell('blue', 'errors'));
		await score('endpoint-online-4', key4, '{"input_data": [[1, 2]]}', 'blue');
		check('Monitoring: blue\'s request counter rises by the 6 requests, its errors by the 1 bad one',
			await until(page, async () => Number(await cell('blue', 'requests')) >= before + 6 &&
				Number(await cell('blue', 'errors')) >= errs + 1), before, await cell('blue', 'requests'));
		check('Monitoring: req/s, p50 and p99 from the polls', await until(page, async () =>
			Number(await cell('blue', 'rate')) > 0 && / ms$/.test(await cell('blue', 'p50')) &&
			/ ms$/.test(await cell('blue', 'p99'))), await cell('blue', 'rate'), await cell('blue', 'p50'));
		check('Monitoring: the request log lines of those requests', await until(page, async () => {
			const t = await page.textContent('#l-body');
			return ids.every((id) => t.includes(id));
		}), ids.join(' '));
		await shot(page, 'monitoring.png');
		await axeCheck(page, 'Monitoring');
	});

	await step('the keyboard', async () => {
		await page.focus('#tab-monitoring');
		await page.keyboard.press('Home');
		const first = await page.evaluate(() => document.activeElement.id);
		await page.keyboard.press('ArrowRight');
		const second = await page.evaluate(() => document.activeElement.id);
		check('the tabs: Home and the arrow keys move the selection and the focus; the hash follows',
			first === 'tab-details' && second === 'tab-test' &&
			(await page.getAttribute('#tab-test', 'aria-selected')) === 'true' &&
			page.url().endsWith('/endpoint-online-4/test') && !(await page.isHidden('#panel-test')) &&
			(await page.isHidden('#panel-details')), first, second, page.url());
	});

	await step('drawing from the keyboard', async () => {
		await page.click('#clear');
		await page.selectOption('#brush', 'pixel');
		await page.fill('#ink', '200');
		await page.focus('#pad');
		for (const k of ['ArrowRight', 'ArrowRight', 'ArrowDown', 'Space'])
			await page.keyboard.press(k);
		const px = await page.evaluate(() => Array.from(document.getElementById('pad').getContext('2d')
			.getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)));
		await page.focus('#send');   /* (the cursor is drawn while the canvas has the focus) */
		const after = await page.evaluate(() => document.getElementById('pad').getContext('2d')
			.getImageData(15, 14, 1, 1).data[0]);
		check('the canvas from the keyboard: arrows move the cursor, Space paints (pixel 15,14 = 200)',
			after === 200 && px.filter((v) => v !== 0).length === 1, after);
	});

	await step('listing off: a name box', async () => {
		const p2 = await context.newPage();
		p2.on('pageerror', (e) => pageErrors.push(e.message));
		await p2.route('**/_ui/api/endpoints', (r) => r.fulfill({ status: 200, contentType: 'application/json',
			body: '{"list": false, "endpoints": []}' }));
		await p2.goto(BASE + '/_ui/');
		await p2.waitForSelector('#open-form:not([hidden])');
		check('listing off: no list, a labelled name box', (await p2.isHidden('#list-table')) &&
			(await p2.locator('label[for="open-name"]').textContent()) === 'Endpoint name');
		await p2.fill('#open-name', 'endpoint-online-4');
		await p2.press('#open-name', 'Enter');
		check('listing off: the name opens #/endpoint-online-4, which asks for its key or token',
			await until(p2, async () => p2.url().endsWith('#/endpoint-online-4') &&
				(await p2.textContent('#ep-title')) === 'endpoint-online-4' &&
				(await p2.textContent('#cred-label')) === 'Key or token'), p2.url());
		await p2.close();
	});

	await step('390 px wide', async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		for (const t of TABS) {
			await tab(page, t);
			const w = await page.evaluate(() => document.documentElement.scrollWidth);
			check('390 px wide, ' + t + ': nothing wider than the screen (' + w + ' px)', w <= 390);
		}
		await tab(page, 'test');
		await shot(page, 'test-390.png');
		await axeCheck(page, 'Test at 390 px');
	});

	const unexpected = consoleErrors.filter((m) => !(m.text === RESOURCE_401 && allowed401.has(m.url)));
	check('no console error (but the browser\'s own line for each deliberate 401) and no page error',
		unexpected.length === 0 && pageErrors.length === 0, ...unexpected.map((m) => m.text + ' at ' + m.url),
		...pageErrors);
	check('no request left ' + origin + ' (' + urls.length + ' requests seen)', foreign.length === 0 && urls.length > 0,
		...foreign);
	check('no answer of /_ui/api/ holds a key or token', apiTexts.length > 0 &&
		apiTexts.every((t) => !t.includes(key2) && !t.includes(key4) && !t.includes(token3)));
	await browser.close();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
	notOk('the browser test ran', e.stack || e.message);
	process.exit(1);
});
