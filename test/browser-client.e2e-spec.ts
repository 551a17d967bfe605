import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { HEARTBEAT_HEADER } from '../src/stream/event-stream.service.js';
import { launchChromium } from './support/browser.js';
import { ClientTab } from './support/client-tab.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken, type TokenOptions } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

const HEARTBEAT_MS = 2000;

describe('The browser client in a real Chromium (e2e)', () => {
  let browser: Browser;
  let gateway: TestGateway;
  let producer: TestProducer;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    gateway = await startTestGateway({
      DEMO_ENABLED: 'true',
      SSE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      // Bursts of 6 opens per user, one more a second: the 429 case uses it up on purpose.
      STREAM_OPENS_PER_USER_PER_MINUTE: '60',
    });
    producer = await createTestProducer();
  }, 90_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await gateway?.close();
  });

  const newUser = () => `tab-${randomUUID().slice(0, 8)}`;

  /** A browser profile whose pages get their tokens from `issue` (the app's identity provider). */
  const newContext = async (
    issue: (refresh: boolean, user?: string) => Promise<string>,
  ): Promise<BrowserContext> => {
    const context = await browser.newContext();
    contexts.push(context);
    await context.exposeFunction('issueToken', issue);
    return context;
  };
  const tokensFor = (options: TokenOptions) => () => signToken(options);

  const send = (user: string, topic: string, numbers: number[], type = 'notification') =>
    producer.send(
      topic,
      numbers.map((n) => ({ type, data: { n }, userId: user })),
      0,
    );

  /**
   * Numbered events 1..count for the user, one every `everyMs`: a steady flow, paced like a
   * producer, while the test does something to the tabs.
   */
  const steadyFlow = async (user: string, count: number, everyMs: number): Promise<void> => {
    for (let n = 1; n <= count; n++) {
      await send(user, 'notifications', [n]);
      await new Promise((next) => setTimeout(next, everyMs));
    }
  };
  const range = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

  const liveWith = (tab: ClientTab, tabs: number) =>
    waitFor(async () => {
      const status = await tab.lastStatus();
      return status?.status === 'live' && status.tabs === tabs && status;
    }, `a live status shared by ${tabs} tab(s)`);

  it('should give the heartbeat interval with the stream’s headers (the client’s liveness timeout)', async () => {
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/events`, {
      headers: { authorization: `Bearer ${await signToken({ sub: newUser() })}` },
      signal: controller.signal,
    });
    controller.abort();

    expect(response.headers.get(HEARTBEAT_HEADER)).toBe(String(HEARTBEAT_MS));
  });

  it('should share one stream among 3 tabs, each getting only the topics it asked for', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const notifications = await ClientTab.open(context, gateway.url, { topics: ['notifications'] });
    const orders = await ClientTab.open(context, gateway.url, { topics: ['orders'] });
    const both = await ClientTab.open(context, gateway.url, { topics: ['orders', 'notifications'] });
    for (const tab of [notifications, orders, both]) await liveWith(tab, 3);
    await waitFor(async () => (await gateway.metric('sse_streams_open')) === 1, 'one open stream');

    await send(user, 'notifications', [1]);
    await send(user, 'orders', [2], 'order.created');
    await waitFor(async () => (await both.numbers()).length === 2, 'both events in the tab that wants both');
    await waitFor(async () => (await orders.numbers()).length === 1, 'the order in the orders tab');

    expect(await notifications.numbers()).toEqual([1]);
    expect(await orders.numbers()).toEqual([2]);
    expect((await both.state()).events.map(({ type, topic }) => [type, topic])).toEqual([
      ['notification', 'notifications'],
      ['order.created', 'orders'],
    ]);
    expect(await gateway.metric('sse_streams_open')).toBe(1);
    const leaders = await Promise.all(
      [notifications, orders, both].map(async (tab) => (await tab.lastStatus())?.leader),
    );
    expect(leaders.filter(Boolean)).toHaveLength(1);
  });

  it('should lose and repeat nothing in the other tabs when the leader tab closes during a steady flow', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const tabs = [
      await ClientTab.open(context, gateway.url),
      await ClientTab.open(context, gateway.url),
      await ClientTab.open(context, gateway.url),
    ];
    for (const tab of tabs) await liveWith(tab, 3);
    const leader = (
      await Promise.all(tabs.map(async (tab) => ((await tab.lastStatus())?.leader ? tab : undefined)))
    ).find(Boolean)!;
    const others = tabs.filter((tab) => tab !== leader);
    const count = 80;

    const flow = steadyFlow(user, count, 25);
    await waitFor(
      async () => (await others[0]!.numbers()).length >= 20,
      'a part of the flow in the other tabs',
    );
    await leader.page.close();
    await flow;

    for (const tab of others) {
      await waitFor(async () => (await tab.numbers()).length >= count, 'the whole flow in a remaining tab');
      expect(await tab.numbers()).toEqual(range(count));
    }
    await liveWith(others[0]!, 2);
    await waitFor(async () => (await gateway.metric('sse_streams_open')) === 1, 'one open stream again');
  });

  it('should hand the stream over when the leader tab is about to be frozen, and take its place in line again', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const first = await ClientTab.open(context, gateway.url);
    const second = await ClientTab.open(context, gateway.url);
    await liveWith(second, 2);
    expect((await first.lastStatus())?.leader).toBe(true);
    await send(user, 'notifications', [1]);
    await waitFor(async () => (await second.numbers()).length === 1, 'event 1 in the second tab');

    // The Page Lifecycle event Chrome fires before it freezes a tab. (Headless Chromium freezes no
    // visible page through the DevTools protocol: its timers went on, measured.)
    const lifecycle = (event: string) =>
      first.page.evaluate((name) => {
        const page = globalThis as unknown as { document: { dispatchEvent(event: object): void } };
        page.document.dispatchEvent(new Event(name));
      }, event);
    await lifecycle('freeze');
    await waitFor(async () => (await second.lastStatus())?.leader === true, 'the second tab to take over');
    await send(user, 'notifications', [2, 3]);
    await waitFor(async () => (await second.numbers()).length === 3, 'events 2-3 in the second tab');
    await lifecycle('resume');

    await waitFor(async () => (await first.numbers()).length >= 3, 'events 2-3 in the first tab');
    expect(await first.numbers()).toEqual([1, 2, 3]);
    expect(await second.numbers()).toEqual([1, 2, 3]);
    expect((await first.lastStatus())?.leader).toBe(false);
    await waitFor(async () => (await gateway.metric('sse_streams_open')) === 1, 'one open stream');
  });

  it('should never give a tab another user’s events: two users in two tabs of one origin', async () => {
    const [alice, bob] = [newUser(), newUser()];
    const context = await newContext((_refresh, user) => signToken({ sub: user! }));
    const aliceTab = await ClientTab.open(context, gateway.url, { user: alice });
    const bobTab = await ClientTab.open(context, gateway.url, { user: bob });
    const live = (tab: ClientTab) => async () => (await tab.lastStatus())?.status === 'live';
    await waitFor(live(aliceTab), 'alice’s tab to be live');
    await waitFor(live(bobTab), 'bob’s tab to be live');

    await send(alice, 'notifications', [1]);
    await send(bob, 'notifications', [2]);
    await waitFor(async () => (await aliceTab.numbers()).length > 0, 'an event in alice’s tab');
    await waitFor(async () => (await bobTab.numbers()).length > 0, 'an event in bob’s tab');

    expect({ alice: await aliceTab.numbers(), bob: await bobTab.numbers() }).toEqual({
      alice: [1],
      bob: [2],
    });
    expect(await aliceTab.lastStatus()).toMatchObject({ tabs: 1, leader: true });
    expect(await bobTab.lastStatus()).toMatchObject({ tabs: 1, leader: true });
  });

  it('should take over from a leader frozen without a word, within two heartbeat intervals, and lose nothing', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const setup = { heartbeatMs: HEARTBEAT_MS };
    const first = await ClientTab.open(context, gateway.url, setup);
    const second = await ClientTab.open(context, gateway.url, setup);
    await liveWith(second, 2);
    expect((await first.lastStatus())?.leader).toBe(true);
    await send(user, 'notifications', [1]);
    await waitFor(async () => (await second.numbers()).length === 1, 'event 1 in the second tab');

    // Frozen the way a mobile browser suspends a tab: its script stops, and no freeze event comes.
    // Page.setWebLifecycleState freezes a page in Chrome; this headless shell ignores it (its
    // timers went on, measured), so the debugger holds the script still as well.
    await first.page.evaluate(() => {
      // Runs in the page.
      const page = globalThis as unknown as {
        addEventListener(
          type: string,
          listener: (event: { stopImmediatePropagation(): void }) => void,
          options: object,
        ): void;
      };
      page.addEventListener('freeze', (event) => event.stopImmediatePropagation(), { capture: true });
    });
    const devtools = await context.newCDPSession(first.page);
    await devtools.send('Page.setWebLifecycleState', { state: 'frozen' });
    await devtools.send('Debugger.enable');
    await devtools.send('Debugger.pause');
    const frozenAt = Date.now();
    await send(user, 'notifications', [2, 3]);
    await waitFor(async () => (await second.numbers()).length === 3, 'events 2-3 in the second tab', 15_000);
    const tookOverIn = Date.now() - frozenAt;

    expect(await second.numbers()).toEqual([1, 2, 3]);
    expect(await second.lastStatus()).toMatchObject({ status: 'live', leader: true });
    // Two intervals of silence, then the lock and a stream: well within three.
    expect(tookOverIn).toBeLessThan(3 * HEARTBEAT_MS + 2000);

    await devtools.send('Debugger.resume');
    await devtools.send('Page.setWebLifecycleState', { state: 'active' });
    await waitFor(
      async () => (await gateway.metric('sse_streams_open')) === 1,
      'the old leader’s stream closed',
    );
    await send(user, 'notifications', [4]);
    await waitFor(async () => (await first.numbers()).length >= 4, 'event 4 in the first tab');
    expect(await first.numbers()).toEqual([1, 2, 3, 4]);
    expect((await first.lastStatus())?.leader).toBe(false);
  });

  it('should let go of its locks for the back-forward cache and join again when restored', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const leader = await ClientTab.open(context, gateway.url);
    const other = await ClientTab.open(context, gateway.url);
    await liveWith(leader, 2);
    /** The presence locks of the group's tabs, as the browser holds them. */
    const heldBy = (tab: ClientTab) =>
      tab.page.evaluate(async () => {
        // Runs in the page.
        const { locks } = (
          globalThis as unknown as {
            navigator: { locks: { query(): Promise<{ held?: Array<{ name: string }> }> } };
          }
        ).navigator;
        const { held = [] } = await locks.query();
        return held.filter((lock) => lock.name.includes(':tab:')).length;
      });
    expect(await heldBy(leader)).toBe(2);

    // What Chrome fires as a page goes into the back-forward cache and comes back (this headless
    // shell keeps no such cache: BackForwardCacheDisabledForDelegate, measured).
    const transition = (type: string) =>
      other.page.evaluate((name) => {
        // Runs in the page.
        const page = globalThis as unknown as {
          dispatchEvent(event: object): void;
          PageTransitionEvent: new (type: string, init: { persisted: boolean }) => object;
        };
        page.dispatchEvent(new page.PageTransitionEvent(name, { persisted: true }));
      }, type);
    await transition('pagehide');
    await liveWith(leader, 1);
    expect(await heldBy(leader)).toBe(1);
    await send(user, 'notifications', [1]);
    await waitFor(async () => (await leader.numbers()).length === 1, 'event 1 in the leader');

    await transition('pageshow');
    await liveWith(leader, 2);
    await send(user, 'notifications', [2]);
    await waitFor(async () => (await other.numbers()).length >= 1, 'event 2 in the restored tab');
    expect(await other.numbers()).toEqual([2]);
    // It missed event 1 while away, and the group was past its position: it was told to refetch.
    expect((await other.state()).resets.map((reset) => reset.reason)).toEqual(['joined-group']);
    expect(await gateway.metric('sse_streams_open')).toBeGreaterThanOrEqual(1);
  });

  it('should stream through at least 3 token rotations with every numbered event exactly once', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user, expiresIn: 6 }));
    const tab = await ClientTab.open(context, gateway.url);
    await liveWith(tab, 1);
    const opened = await gateway.metric('sse_streams_opened_total');
    const expired = await gateway.metric('sse_streams_closed_total', { reason: 'expired' });

    let stop = false;
    let sent = 0;
    const flow = (async () => {
      while (!stop) {
        await send(user, 'notifications', [++sent]);
        await new Promise((next) => setTimeout(next, 50));
      }
    })();
    await waitFor(
      async () => (await tab.state()).tokenCalls.filter((refresh) => refresh).length >= 3,
      '3 rotations',
      40_000,
    );
    await waitFor(
      async () => (await gateway.metric('sse_streams_opened_total')) - opened >= 3,
      'the third new stream',
    );
    stop = true;
    await flow;

    await waitFor(async () => (await tab.numbers()).length >= sent, 'every event of the flow');
    expect(await tab.numbers()).toEqual(range(sent));
    // Each old stream was closed by the client after the new one opened, none by its token's expiry.
    expect((await gateway.metric('sse_streams_closed_total', { reason: 'expired' })) - expired).toBe(0);
    expect((await tab.state()).statuses.map((status) => status.status)).toEqual(['connecting', 'live']);
  }, 60_000);

  it('should hand a reset to the app’s callback, then go on', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    const tab = await ClientTab.open(context, gateway.url, { lastEventId: 'not-an-id-of-this-gateway' });
    await waitFor(async () => (await tab.state()).resets.length === 1, 'the reset');
    await send(user, 'notifications', [1]);
    await waitFor(async () => (await tab.numbers()).length === 1, 'the next event');

    const state = await tab.state();
    expect(state.resets).toEqual([{ reason: 'malformed-id', message: expect.any(String) as string }]);
    expect(state.statuses.map((status) => status.status)).toEqual(['connecting', 'live', 'reset', 'live']);
  });

  it('should stream by cookie when the app gives no getToken', async () => {
    const user = newUser();
    const context = await newContext(() => Promise.reject(new Error('not used')));
    await context.addCookies([
      {
        name: 'session',
        value: await signToken({ sub: user }),
        url: gateway.url,
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    const tab = await ClientTab.open(context, gateway.url, { useToken: false });
    await liveWith(tab, 1);
    await send(user, 'notifications', [1]);

    await waitFor(async () => (await tab.numbers()).length === 1, 'the event');
    expect((await tab.state()).tokenCalls).toEqual([]);
  });

  it('should refresh the token once after a 401 and go on with the new one', async () => {
    const user = newUser();
    const context = await newContext((refresh) =>
      signToken({ sub: user, ...(refresh ? {} : { secret: 'a-secret-the-gateway-does-not-know-at-all' }) }),
    );
    const tab = await ClientTab.open(context, gateway.url);
    await liveWith(tab, 1);

    expect((await tab.state()).tokenCalls).toEqual([false, true]);
  });

  it('should give up with an unauthorized error when the refreshed token gets a 401 too', async () => {
    const user = newUser();
    const context = await newContext(() => signToken({ sub: user, expiresIn: -60 }));
    const tab = await ClientTab.open(context, gateway.url);
    const closed = await waitFor(async () => {
      const status = await tab.lastStatus();
      return status?.status === 'closed' && status;
    }, 'the client to give up');

    expect(closed.error).toEqual({ code: 'unauthorized', status: 401 });
    expect((await tab.state()).tokenCalls).toEqual([false, true]);
  });

  it('should give up at once with a forbidden error on a 403', async () => {
    const context = await newContext(tokensFor({ sub: newUser(), topics: ['chat'] }));
    const tab = await ClientTab.open(context, gateway.url, { topics: ['notifications'] });
    const closed = await waitFor(async () => {
      const status = await tab.lastStatus();
      return status?.status === 'closed' && status;
    }, 'the client to give up');

    expect(closed.error).toEqual({ code: 'forbidden', status: 403 });
    expect((await tab.state()).tokenCalls).toEqual([false]);
  });

  it('should wait as long as Retry-After says after a 429, then connect', async () => {
    const user = newUser();
    const token = await signToken({ sub: user });
    const context = await newContext(() => Promise.resolve(token));
    const tab = await ClientTab.prepare(context, gateway.url);
    // The user's burst of stream opens, used up by another client just before.
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      const response = await fetch(`${gateway.url}/events`, {
        headers: { authorization: `Bearer ${token}` },
        signal: controller.signal,
      });
      controller.abort();
      expect(response.status).toBe(200);
    }
    await tab.connect();
    await liveWith(tab, 1);

    const statuses = (await tab.state()).statuses;
    expect(statuses.map((status) => status.status)).toEqual(['connecting', 'reconnecting', 'live']);
    expect(statuses[1]).toEqual({
      status: 'reconnecting',
      tabs: 1,
      leader: true,
      inMs: 1000,
      cause: 'HTTP 429: This user opens streams too fast',
    });
  });

  it('should keep one stream per tab where there are no Web Locks', async () => {
    const user = newUser();
    const context = await newContext(tokensFor({ sub: user }));
    await context.addInitScript(() => {
      // Runs in the page: an old browser's navigator, without Web Locks.
      Reflect.deleteProperty(
        (globalThis as unknown as { Navigator: { prototype: object } }).Navigator.prototype,
        'locks',
      );
    });
    const tabs = [await ClientTab.open(context, gateway.url), await ClientTab.open(context, gateway.url)];
    for (const tab of tabs) await liveWith(tab, 1);
    await send(user, 'notifications', [1]);

    for (const tab of tabs)
      await waitFor(async () => (await tab.numbers()).length === 1, 'the event in each tab');
    await waitFor(async () => (await gateway.metric('sse_streams_open')) === 2, 'a stream per tab');
  });

  it('should show every event type on the demo page, with its status and how many tabs share the stream', async () => {
    const user = newUser();
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${gateway.url}/`);
    await page.fill('#user', user);
    await page.click('button');
    await waitFor(async () => (await page.textContent('#status')) === 'live', 'the demo page to be live');

    await send(user, 'notifications', [1], 'order.created');
    await producer.send(
      'notifications',
      [{ type: 'notification', data: 'maintenance at 18:00', broadcast: true }],
      0,
    );
    await waitFor(async () => (await page.locator('#events li').count()) >= 2, 'both events on the page');
    const second = await context.newPage();
    await second.goto(`${gateway.url}/`);

    await waitFor(
      async () => (await page.getAttribute('#tabs', 'data-count')) === '2',
      'two tabs on the page',
    );
    const texts = await page.locator('#events li').allTextContents();
    expect(texts.some((text) => text.startsWith('order.created {"n":1}'))).toBe(true);
    expect(texts.some((text) => text.startsWith('notification "maintenance at 18:00"'))).toBe(true);
    expect(await page.textContent('#tabs')).toBe('2 tabs share one connection, held by this tab');
  });
});
