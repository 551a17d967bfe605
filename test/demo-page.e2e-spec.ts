import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { waitFor } from './support/wait-for.js';

/** The demo page in a real Chromium, as a first-time user meets it. */
describe('The demo page (e2e)', () => {
  let browser: Browser;
  let gateway: TestGateway;
  let producer: TestProducer;
  let context: BrowserContext;
  let page: Page;
  /** The sign-in requests the page made. */
  let signIns: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    gateway = await startTestGateway({ DEMO_ENABLED: 'true' });
    producer = await createTestProducer();
  }, 90_000);

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    signIns = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/demo/token')) signIns.push(request.postData() ?? '');
    });
    await page.goto(`${gateway.url}/`);
  });

  afterEach(() => context.close());

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await gateway?.close();
  });

  const newUser = () => `page-${randomUUID().slice(0, 8)}`;
  const signIn = async (user: string) => {
    await page.fill('#user', user);
    await page.click('button');
    await waitFor(async () => (await page.textContent('#status')) === 'live', `${user}'s stream to be live`);
  };
  const items = () => page.locator('#events li').allTextContents();
  /** The sign-in field's own validity, as the browser judges it. */
  const validity = () =>
    page.$eval('#user', (input) => {
      const field = input as unknown as { checkValidity(): boolean; validity: { patternMismatch: boolean } };
      return { valid: field.checkValidity(), patternMismatch: field.validity.patternMismatch };
    });
  const savedUser = () =>
    page.evaluate(() =>
      (
        globalThis as unknown as { localStorage: { getItem(key: string): string | null } }
      ).localStorage.getItem('demo-user'),
    );

  it('should refuse "alice smith" in the field itself, with a pattern that is valid under the v flag', async () => {
    await page.fill('#user', 'alice smith');

    expect(await validity()).toEqual({ valid: false, patternMismatch: true });
    await page.click('button');
    expect(signIns).toEqual([]);
  });

  it('should show the gateway’s refusal once, without retrying it or keeping the name', async () => {
    // As if the field's own check were bypassed: the gateway has the last word.
    await page.$eval('#user', (input) =>
      (input as unknown as { removeAttribute(name: string): void }).removeAttribute('pattern'),
    );
    await page.fill('#user', 'alice smith');
    await page.click('button');

    await waitFor(async () => (await page.textContent('#error')) !== '', 'the refusal to show');
    expect(await page.textContent('#error')).toBe(
      'Sign-in refused: user must be 1-64 letters, digits, ".", "_" or "-"',
    );
    expect(signIns).toEqual([JSON.stringify({ user: 'alice smith' })]);
    expect(await page.isVisible('#status')).toBe(false);
    expect(await savedUser()).toBeNull();
    await page.reload();
    expect(await page.inputValue('#user')).not.toBe('alice smith');
  });

  it('should show only the sign-in before signing in: no empty box', async () => {
    expect(await page.isVisible('#signin')).toBe(true);
    expect(await page.isVisible('#command')).toBe(false);
    expect(await page.isVisible('#events')).toBe(false);
  });

  it('should clear the list when another user signs in', async () => {
    const [first, second] = [newUser(), newUser()];
    await signIn(first);
    await producer.send('notifications', [{ type: 'hello', data: { to: first }, userId: first }], 0);
    await waitFor(async () => (await items()).length === 1, `${first}'s event on the page`);

    await page.fill('#user', second);
    await page.click('button');
    await waitFor(async () => (await page.textContent('#who')) === second, `${second} to be signed in`);

    expect(await items()).toEqual([]);
    await waitFor(
      async () => (await page.textContent('#status')) === 'live',
      `${second}'s stream to be live`,
    );
    await producer.send('notifications', [{ type: 'hello', data: { to: second }, userId: second }], 0);
    await waitFor(async () => (await items()).length === 1, `${second}'s event on the page`);
    expect((await items())[0]).toContain(`{"to":"${second}"}`);
  });

  it('should give every event its time and mark broadcasts as such', async () => {
    const user = newUser();
    await signIn(user);

    await producer.send('notifications', [{ type: 'order.created', data: { for: user }, userId: user }], 0);
    await waitFor(async () => (await items()).length === 1, 'the targeted event on the page');
    await producer.send(
      'notifications',
      [{ type: 'notification', data: `to all, ${user}`, broadcast: true }],
      0,
    );
    const broadcast = page.locator('#events li', { hasText: `to all, ${user}` });
    await waitFor(async () => (await broadcast.locator('.badge').count()) === 1, 'the broadcast marker');

    const targeted = page.locator('#events li', { hasText: `{"for":"${user}"}` });
    expect(await targeted.locator('.badge').count()).toBe(0);
    expect(await broadcast.locator('.badge').textContent()).toBe('broadcast');
    for (const item of [targeted, broadcast]) {
      const stamp = await item.locator('time').getAttribute('datetime');
      expect(Math.abs(Date.parse(stamp ?? '') - Date.now())).toBeLessThan(60_000);
    }
  });
});
