// driver.mjs - drives Debian's headless chromium for the browser tests.
//
// Usage: node driver.mjs --origin http://127.0.0.1:PORT --profile DIR
//
// A long-running process that tests/live/lib_live.sh starts as a bash
// coprocess. It reads one command a line from stdin, fields separated by
// tabs (command name first), and writes one reply line to stdout:
//   ok<TAB>VALUE      strings as they are (newlines turned into spaces),
//                     anything else as JSON
//   error<TAB>TEXT    what failed, on one line
// It exits after the command "quit", at the end of stdin, or on SIGTERM,
// closing the browser first.
//
// Every request of every page is recorded (context.on('request')), so that
// a test can check that the page asked nothing of any host other than
// --origin. Sizes of finished responses are summed per page for the page
// weight. Uncaught page errors and console messages about a
// Content-Security-Policy violation are recorded for the command "errors".
//
// The browser is launched with launchPersistentContext because Playwright
// rejects --user-data-dir in the launch arguments; DIR must be a fresh,
// empty folder. Playwright itself downloads no browser here: executablePath
// names Debian's /usr/bin/chromium.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync',
];
const DEFAULT_TIMEOUT_MS = 10000;

const { values: opts } = parseArgs({
	options: { origin: { type: 'string' }, profile: { type: 'string' } },
});
if (!opts.origin || !opts.profile) {
	process.stderr.write('driver.mjs: usage: node driver.mjs --origin URL --profile DIR\n');
	process.exit(2);
}
const origin = new URL(opts.origin).origin;

const requests = [];      // every request URL, in order, for all pages
const pageErrors = [];    // uncaught exceptions and CSP violations
let page = null;
let pageWeight = { bytes: 0, responses: 0, sizes: [] };
const pendingSizes = new Set();  // recordSize calls not finished yet

const context = await chromium.launchPersistentContext(opts.profile, {
	executablePath: CHROMIUM,
	headless: true,
	args: CHROMIUM_ARGS,
	viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
context.on('request', (req) => requests.push(req.url()));
context.on('requestfinished', (req) => {
	const pending = recordSize(req);
	pendingSizes.add(pending);
	pending.finally(() => pendingSizes.delete(pending));
});

// Adds a finished response of the current page to its weight: body and
// headers as transferred (encoded body size).
async function recordSize(req) {
	try {
		if (!page || req.frame().page() !== page)
			return;
		const s = await req.sizes();
		const bytes = s.responseBodySize + s.responseHeadersSize;
		pageWeight.bytes += bytes;
		pageWeight.responses += 1;
		pageWeight.sizes.push({ url: req.url(), bytes });
	} catch {
		// The page closed before the sizes were known: not part of a load.
	}
}

function watchPage(p) {
	p.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
	p.on('console', (msg) => {
		if (/Content.Security.Policy/i.test(msg.text()))
			pageErrors.push(`csp: ${msg.text()}`);
	});
}

// Opens a new tab with its own sessionStorage, closing the current one.
async function newPage(width, height) {
	const old = page;
	page = await context.newPage();
	watchPage(page);
	await page.setViewportSize({ width: Number(width), height: Number(height) });
	pageWeight = { bytes: 0, responses: 0, sizes: [] };
	for (const p of context.pages())
		if (p !== page)
			await p.close();
	return old ? 'replaced' : 'opened';
}

function foreignRequests() {
	return requests.filter((url) => {
		try {
			return new URL(url).origin !== origin;
		} catch {
			return true;
		}
	});
}

// Waits until the trimmed innerText of the first match of sel equals want;
// returns the browser's clock (ms since the epoch) at that moment.
async function waitText(sel, want, timeoutMs) {
	try {
		const handle = await page.waitForFunction(([s, w]) => {
			const el = document.querySelector(s);
			return el && el.innerText.trim() === w ? Date.now() : false;
		}, [sel, want], { timeout: Number(timeoutMs), polling: 'raf' });
		return await handle.jsonValue();
	} catch (err) {
		const now = await page.evaluate((s) => document.querySelector(s)?.innerText.trim() ?? null, sel);
		throw new Error(`${sel}: expected text '${want}' within ${timeoutMs} ms, ` +
			`last seen ${JSON.stringify(now)} (${err.message.split('\n')[0]})`);
	}
}

async function waitAttr(sel, name, want, timeoutMs) {
	try {
		await page.waitForFunction(([s, n, w]) =>
			document.querySelector(s)?.getAttribute(n) === w,
		[sel, name, want], { timeout: Number(timeoutMs), polling: 'raf' });
		return want;
	} catch {
		const now = await page.evaluate(([s, n]) => document.querySelector(s)?.getAttribute(n) ?? null, [sel, name]);
		throw new Error(`${sel}: expected ${name}='${want}' within ${timeoutMs} ms, last seen ${JSON.stringify(now)}`);
	}
}

// Lists the visible elements that reach past the left or right edge of the
// viewport, unless an ancestor with overflow other than visible (a scroll
// box or a clipping box) keeps them inside, and whether the document itself
// scrolls sideways.
function findOverflow() {
	return page.evaluate(() => {
		const width = document.documentElement.clientWidth;
		const describe = (el) => el.tagName.toLowerCase() +
			(el.id ? `#${el.id}` : '') +
			(el.classList.length ? `.${[...el.classList].join('.')}` : '') +
			(el.dataset.kpi ? `[data-kpi=${el.dataset.kpi}]` : '');
		const clipped = (el) => {
			for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
				const style = getComputedStyle(a);
				const box = a.getBoundingClientRect();
				if (style.overflowX !== 'visible' && box.left >= -1 && box.right <= width + 1)
					return true;
			}
			return false;
		};
		const offenders = [];
		for (const el of document.body.querySelectorAll('*')) {
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.height === 0)
				continue;
			if ((r.right > width + 1 || r.left < -1) && !clipped(el))
				offenders.push(`${describe(el)} spans ${Math.round(r.left)}..${Math.round(r.right)}`);
		}
		return {
			viewport: width,
			scroll_width: document.documentElement.scrollWidth,
			offenders,
		};
	});
}

const commands = {
	new_page: (w = 1280, h = 900) => newPage(w, h),
	goto: async (path) => {
		const res = await page.goto(new URL(path, origin).href, { waitUntil: 'load' });
		return res ? res.status() : 0;
	},
	fill: async (sel, text) => { await page.fill(sel, text); return 'filled'; },
	click: async (sel) => { await page.click(sel); return 'clicked'; },
	select: async (sel, value) => (await page.selectOption(sel, value)).join(','),
	options: (sel) => page.$$eval(`${sel} option`, (os) => os.map((o) => o.value)),
	text: async (sel) => (await page.locator(sel).first().innerText()).trim(),
	texts: (sel) => page.$$eval(sel, (els) => els.map((e) => e.innerText.trim())),
	attr: (sel, name) => page.locator(sel).first().getAttribute(name),
	count: (sel) => page.locator(sel).count(),
	wait_text: (sel, want, timeoutMs = DEFAULT_TIMEOUT_MS) => waitText(sel, want, timeoutMs),
	wait_attr: (sel, name, want, timeoutMs = DEFAULT_TIMEOUT_MS) => waitAttr(sel, name, want, timeoutMs),
	wait_for: async (sel, timeoutMs = DEFAULT_TIMEOUT_MS) => {
		await page.waitForSelector(sel, { timeout: Number(timeoutMs) });
		return 'present';
	},
	dataset: (name) => page.evaluate((n) => document.body.dataset[n] ?? null, name),
	overflow: () => findOverflow(),
	screenshot: async (path) => { await page.screenshot({ path, fullPage: true }); return path; },
	requests: () => ({ total: requests.length, foreign: foreignRequests() }),
	weight: async () => {
		// Lets the responses of the load finish reporting; a page with an
		// open stream never goes idle, hence the short bound.
		await page.waitForLoadState('networkidle', { timeout: 2000 }).catch(() => {});
		await Promise.all([...pendingSizes]);
		return pageWeight;
	},
	errors: () => pageErrors,
};

async function run(line) {
	const [name, ...args] = line.split('\t');
	const fn = commands[name];
	if (!fn)
		throw new Error(`unknown command '${name}'; known: ${Object.keys(commands).join(' ')}`);
	if (!page && name !== 'new_page')
		await newPage(1280, 900);
	return fn(...args);
}

function reply(status, value) {
	const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
	process.stdout.write(`${status}\t${text.replace(/[\r\n]+/g, ' ')}\n`);
}

async function shutdown(code) {
	await context.close().catch(() => {});
	process.exit(code);
}

process.on('SIGTERM', () => shutdown(0));

const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of input) {
	if (line === 'quit')
		break;
	try {
		reply('ok', await run(line));
	} catch (err) {
		reply('error', err.message.split('\n')[0]);
	}
}
await shutdown(0);
