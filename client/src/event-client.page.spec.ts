/**
 * @jest-environment jsdom
 */
import { EventClient } from './event-client.js';

/** The page's lifecycle, as a browser fires it, reaches the stream. */
describe(`${EventClient.name} in a page`, () => {
  let requests: number;
  let client: EventClient;

  beforeEach(() => {
    requests = 0;
    client = new EventClient({
      url: 'https://gw.example/events',
      locks: null,
      retryMs: 60_000,
      environment: {
        fetch: () => {
          requests++;
          return Promise.reject(new TypeError('Failed to fetch'));
        },
        setTimeout: (run, ms) => setTimeout(run, ms),
        clearTimeout: (handle) => clearTimeout(handle as number),
        now: () => Date.now(),
        random: () => 0.5,
      },
    });
  });

  afterEach(() => client.close());

  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

  it('should reconnect at once when the browser is back online', async () => {
    await settle();
    expect(client.status).toMatchObject({ status: 'reconnecting', inMs: 15_000 });

    dispatchEvent(new Event('online'));
    await settle();
    expect(requests).toBe(2);
  });

  it('should close when the page unloads for good, and stop listening to it', async () => {
    await settle();
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    dispatchEvent(new Event('online'));
    await settle();

    expect(client.status.status).toBe('closed');
    expect(requests).toBe(1);
  });
});
