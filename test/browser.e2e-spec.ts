import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

interface PageState {
  numbers: number[];
  opens: number;
}

describe('A real browser EventSource (e2e)', () => {
  let browser: Browser;
  let gateway: TestGateway;
  let producer: TestProducer;

  beforeAll(async () => {
    browser = await launchChromium();
    gateway = await startTestGateway();
    producer = await createTestProducer();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await gateway?.close();
  });

  const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { state: PageState }).state);

  it('should receive, through its own reconnect with Last-Event-ID, what was produced while the server had dropped it', async () => {
    const sub = `browser-${randomUUID().slice(0, 8)}`;
    const context = await browser.newContext();
    await context.addCookies([
      {
        name: 'session',
        value: await signToken({ sub }),
        url: gateway.url,
        httpOnly: true,
        sameSite: 'Strict',
      },
    ]);
    const page = await context.newPage();
    await page.goto(`${gateway.url}/health/live`);
    await page.evaluate(() => {
      const state: PageState = { numbers: [], opens: 0 };
      (globalThis as unknown as { state: PageState }).state = state;
      // Runs in the page, where EventSource is the browser's own.
      const source = new EventSource('/events?topics=notifications', { withCredentials: true });
      source.onopen = () => state.opens++;
      source.addEventListener('notification', (event) =>
        state.numbers.push((JSON.parse((event as unknown as { data: string }).data) as { n: number }).n),
      );
    });
    await waitFor(async () => (await state(page)).opens === 1, 'the browser stream to open');
    const send = (from: number, to: number) =>
      producer.send(
        'notifications',
        Array.from({ length: to - from + 1 }, (_, i) => ({
          type: 'notification',
          data: { n: from + i },
          userId: sub,
        })),
        0,
      );

    await send(1, 3);
    await waitFor(async () => (await state(page)).numbers.length === 3, 'events 1-3 in the page');
    expect(gateway.cutConnections()).toBeGreaterThan(0);
    await send(4, 6);

    const final = await waitFor(async () => {
      const current = await state(page);
      return current.numbers.length >= 6 && current;
    }, 'events 4-6 after the browser reconnected');
    expect(final.numbers).toEqual([1, 2, 3, 4, 5, 6]);
    expect(final.opens).toBeGreaterThanOrEqual(2);
    await context.close();
  });
});
