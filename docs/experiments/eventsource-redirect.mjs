// @ts-check
/**
 * What a real Chromium does with a redirected EventSource: which URL its reconnections use, whether
 * `Last-Event-ID` survives the redirect, and what happens when the URL it sticks to goes away.
 * It decides how a connection can reach the instance that owns its user (docs/scaling.md).
 *
 *   npm run experiment:redirect        # or: node docs/experiments/eventsource-redirect.mjs
 *
 * Three plain node:http servers on 127.0.0.1 stand in for a load balancer's address (A) and two
 * instances (B, C); every request they get is recorded. Chromium comes from @sparticuz/chromium
 * (a devDependency), or CHROMIUM_PATH. Prints what was observed, and exits 1 if Chromium did not
 * behave as the HTML standard says (reconnect to the last URL of the redirect chain).
 */
import http from 'node:http';
import { chromium as playwright } from 'playwright-core';

/** @typedef {{ server: string, path: string, lastEventId: string | null, origin: string | null, cookie: boolean }} Hit */

/**
 * What the page keeps on `globalThis`.
 * @typedef {{ state: { events: Array<{ id: string, origin: string }>, errors: number },
 *   source: { readyState: number, url: string, close(): void } }} PageGlobals
 */

/** @type {Hit[]} */
const hits = [];

/**
 * A server whose behaviour per request is chosen by `respond`, given the request and how many
 * requests for that path it has had before.
 * @param {string} name
 * @param {(req: http.IncomingMessage, res: http.ServerResponse, seen: number) => void} respond
 * @param {number} [port]
 */
async function startServer(name, respond, port = 0) {
  /** @type {Map<string, number>} */
  const seen = new Map();
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '';
    if (path.includes('events')) {
      hits.push({
        server: name,
        path,
        lastEventId: header(req, 'last-event-id'),
        origin: header(req, 'origin'),
        cookie: (header(req, 'cookie') ?? '').includes('session=s3cret'),
      });
    }
    const count = seen.get(path) ?? 0;
    seen.set(path, count + 1);
    respond(req, res, count);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((listening) => server.listen(port, '127.0.0.1', () => listening(undefined)));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : 0;
  return {
    name,
    port: actualPort,
    origin: `http://127.0.0.1:${actualPort}`,
    /** Stops listening and cuts every connection: the instance is gone. */
    async kill() {
      for (const socket of sockets) socket.destroy();
      await new Promise((closed) => server.close(() => closed(undefined)));
    },
  };
}

/** @param {http.IncomingMessage} req @param {string} name */
function header(req, name) {
  const value = req.headers[name];
  return typeof value === 'string' ? value : null;
}

/**
 * An event stream that sends `retry:` and one event, then ends (an instance ending a stream for
 * its client to resume elsewhere), or stays open when `keepOpen`.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} id @param {boolean} [keepOpen]
 */
function stream(req, res, id, keepOpen = false) {
  // Cross-origin hops need CORS with credentials; same-origin requests carry no Origin to echo.
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', ...cors(req) });
  res.write(`retry: 100\nid: ${id}\ndata: ${id}\n\n`);
  if (!keepOpen) res.end();
}

/**
 * A 307. Answering a cross-origin request, it needs CORS headers too: the browser checks the
 * redirect response itself before it follows it.
 * @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {string} location
 */
function redirect(req, res, location) {
  res.writeHead(307, { location, 'cache-control': 'no-store', ...cors(req) });
  res.end();
}

/** @param {http.IncomingMessage} req */
function cors(req) {
  const origin = header(req, 'origin');
  return origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' } : {};
}

/**
 * @template T
 * @param {() => T | undefined | false | Promise<T | undefined | false>} check
 * @param {string} what
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 20));
  }
}

async function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const { default: sparticuz } = await import('@sparticuz/chromium');
  return sparticuz.executablePath();
}

/** Requests seen since `from`, by server and path. @param {number} from */
const since = (from) => hits.slice(from);

async function main() {
  // C is replaced by a new server on the same port when it "comes back", so its behaviour lives here.
  /** @type {'stream' | 'unavailable'} */
  let cMode = 'stream';
  const c = await startServer('C', (req, res, seen) =>
    cMode === 'stream' ? stream(req, res, `c${seen + 1}`) : (res.writeHead(503), res.end()),
  );
  const b = await startServer('B', (req, res, seen) =>
    seen === 0 ? stream(req, res, 'b1') : redirect(req, res, `${c.origin}/events?topics=x&node=c`),
  );
  const a = await startServer('A', (req, res, seen) => {
    const path = req.url ?? '';
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>redirect experiment</title>');
    } else if (path.startsWith('/events?topics=x&node=a2')) {
      // Same origin, another path: what a load balancer routing on a path or query would do.
      stream(req, res, `a${seen + 1}`, seen >= 1);
    } else if (path.startsWith('/events?topics=x&same')) {
      redirect(req, res, '/events?topics=x&node=a2');
    } else if (path.startsWith('/events?topics=x&cross')) {
      redirect(req, res, `${b.origin}/events?topics=x&node=b`);
    } else {
      res.writeHead(404);
      res.end();
    }
  });

  const browser = await playwright.launch({
    executablePath: await chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  /** @type {Record<string, unknown>} */
  const observed = { chromium: browser.version() };
  let cAgain;
  try {
    const context = await browser.newContext();
    // Cookies are scoped by host, not port: every server here is 127.0.0.1, so all may get it.
    await context.addCookies([{ name: 'session', value: 's3cret', url: a.origin, httpOnly: true }]);
    const page = await context.newPage();
    await page.goto(`${a.origin}/`);

    /** @param {string} url */
    const open = (url) =>
      page.evaluate((target) => {
        const state = { events: /** @type {Array<{ id: string, origin: string }>} */ ([]), errors: 0 };
        const source = new EventSource(target, { withCredentials: true });
        source.onmessage = (e) => state.events.push({ id: e.lastEventId, origin: e.origin });
        source.onerror = () => state.errors++;
        Object.assign(globalThis, { source, state });
      }, url);
    const state = () =>
      page.evaluate(() => {
        const { state, source } = /** @type {PageGlobals} */ (/** @type {unknown} */ (globalThis));
        return { events: state.events, errors: state.errors, readyState: source.readyState, url: source.url };
      });
    const close = () =>
      page.evaluate(() => /** @type {PageGlobals} */ (/** @type {unknown} */ (globalThis)).source.close());

    // 1. Same origin: A /events?…&same → 307 → A /events?…&node=a2, which ends the stream once.
    let mark = hits.length;
    await open('/events?topics=x&same');
    await waitFor(async () => (await state()).events.length >= 2, 'two events (same origin)');
    const sameOrigin = since(mark);
    observed.sameOrigin = {
      requests: sameOrigin,
      eventSourceUrl: (await state()).url,
      reconnectedTo: sameOrigin[2]?.path,
      lastEventIdOnReconnect: sameOrigin[2]?.lastEventId,
    };
    await close();

    // 2. Cross origin: A → 307 → B, which ends the stream; B's next answer is a 307 to C, whose
    //    streams end at once; then C goes away.
    mark = hits.length;
    await open('/events?topics=x&cross');
    await waitFor(() => since(mark).filter((hit) => hit.server === 'C').length >= 3, 'reconnections to C');
    const cross = since(mark);
    const afterHandOver = await state();
    observed.crossOrigin = {
      sequence: cross.map((hit) => `${hit.server} ${hit.path} (Last-Event-ID ${hit.lastEventId ?? '-'})`),
      originHeaders: [...new Set(cross.map((hit) => hit.origin))],
      cookieSentEverywhere: cross.every((hit) => hit.cookie),
      eventSourceUrl: afterHandOver.url,
      eventOrigins: [...new Set(afterHandOver.events.map((event) => event.origin))],
    };

    // 3. The instance C is gone (connection refused). Where does the browser go?
    await c.kill();
    mark = hits.length;
    const errorsAtKill = (await state()).errors;
    await waitFor(async () => (await state()).errors >= errorsAtKill + 4, 'failed reconnections to dead C');
    const whileDead = await state();
    observed.whileOwnerDead = {
      requestsToAOrB: since(mark).length,
      failedReconnections: whileDead.errors - errorsAtKill,
      readyState: whileDead.readyState,
    };
    // 4. Something listens on C's address again: it gets the reconnection, so the browser stuck to C.
    cMode = 'unavailable';
    cAgain = await startServer(
      'C (new process, answers 503)',
      (_req, res) => (res.writeHead(503), res.end()),
      c.port,
    );
    await waitFor(() => since(mark).length >= 1, 'a reconnection to C after it came back');
    await waitFor(async () => (await state()).readyState === 2, 'EventSource to close after 503');
    observed.afterOwnerBack = {
      firstRequest: since(mark)[0],
      readyStateAfter503: (await state()).readyState,
    };
    await context.close();
  } finally {
    await browser.close();
    await Promise.all([a.kill(), b.kill(), cAgain?.kill()]);
  }

  const same = /** @type {{ reconnectedTo?: string, lastEventIdOnReconnect?: string | null }} */ (
    observed.sameOrigin
  );
  const cross = since(0).filter((hit) => hit.path.includes('cross') || /node=[bc]/.test(hit.path));
  const firstC = cross.findIndex((hit) => hit.server === 'C');
  const checks = {
    'same origin: reconnection goes to the redirect target, not the constructor URL':
      same.reconnectedTo === '/events?topics=x&node=a2',
    'same origin: Last-Event-ID is sent on the reconnection': same.lastEventIdOnReconnect === 'a1',
    'cross origin: reconnections go to B directly, with Last-Event-ID':
      cross[2]?.server === 'B' && cross[2].lastEventId === 'b1',
    'cross origin: after B answers a reconnection with a 307 to C, every later one goes to C':
      firstC === 3 && cross.slice(firstC).every((hit) => hit.server.startsWith('C')),
    'a dead owner is retried at its own URL; the constructor URL is never tried again':
      /** @type {{ requestsToAOrB: number }} */ (observed.whileOwnerDead).requestsToAOrB === 0,
    '503 from the owner closes the EventSource for good (readyState 2)':
      /** @type {{ readyStateAfter503: number }} */ (observed.afterOwnerBack).readyStateAfter503 === 2,
  };
  console.log(JSON.stringify({ observed, checks }, null, 2));
  const failed = Object.entries(checks).filter(([, ok]) => !ok);
  for (const [name, ok] of Object.entries(checks)) console.log(`${ok ? 'yes' : 'NO '}  ${name}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  console.error('requests so far:', JSON.stringify(hits, null, 1));
  process.exit(1);
});
