import type { BrowserContext, Page } from 'playwright-core';

/** What a test page's application saw through the browser client. */
export interface TabState {
  events: Array<{ type: string; topic: string; n: number | undefined }>;
  statuses: Array<{
    status: string;
    tabs: number;
    leader: boolean;
    inMs?: number;
    cause?: string;
    error?: { code: string; status: number };
  }>;
  resets: Array<{ reason: string; message: string }>;
  /** The `refresh` flag of each getToken call. */
  tokenCalls: boolean[];
}

export interface ClientSetup {
  topics?: string[];
  lastEventId?: string;
  /** Whether the page calls the context's `issueToken` binding; otherwise cookies. */
  useToken?: boolean;
  /** Who the page signs in as, passed to `issueToken` (for contexts whose pages differ). */
  user?: string;
  heartbeatMs?: number;
}

/** A page of the gateway's origin running the browser client, as an application would. */
export class ClientTab {
  constructor(readonly page: Page) {}

  /**
   * Opens a page on the gateway's origin, loads the client the gateway serves
   * (/client.js) and connects it. The context must expose `issueToken` when
   * `useToken` is on (the default).
   */
  static async open(
    context: BrowserContext,
    gatewayUrl: string,
    setup: ClientSetup = {},
  ): Promise<ClientTab> {
    const tab = await ClientTab.prepare(context, gatewayUrl);
    await tab.connect(setup);
    return tab;
  }

  /** The page with the client loaded, not connected yet. */
  static async prepare(context: BrowserContext, gatewayUrl: string): Promise<ClientTab> {
    const page = await context.newPage();
    await page.goto(`${gatewayUrl}/health/live`);
    await page.addScriptTag({
      type: 'module',
      content: "import { connect } from '/client.js'; globalThis.connectGateway = connect;",
    });
    await page.waitForFunction(() => 'connectGateway' in globalThis);
    return new ClientTab(page);
  }

  async connect(setup: ClientSetup = {}): Promise<void> {
    await this.page.evaluate((options) => {
      // Runs in the page.
      interface PageClient {
        onAny(handler: (event: { type: string; topic: string; data: unknown }) => void): void;
        onReset(handler: (reset: { reason: string; message: string }) => void): void;
        onStatus(handler: (status: Record<string, unknown>) => void): void;
      }
      const page = globalThis as unknown as {
        connectGateway(options: object): PageClient;
        issueToken(refresh: boolean, user?: string): Promise<string>;
        tab: TabState;
        client: PageClient;
      };
      const tab: TabState = { events: [], statuses: [], resets: [], tokenCalls: [] };
      page.tab = tab;
      const client = page.connectGateway({
        ...(options.topics ? { topics: options.topics } : {}),
        ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}),
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
        ...(options.useToken === false
          ? {}
          : {
              getToken: ({ refresh }: { refresh: boolean }) => {
                tab.tokenCalls.push(refresh);
                return page.issueToken(refresh, options.user);
              },
            }),
      });
      client.onAny((event) =>
        tab.events.push({
          type: event.type,
          topic: event.topic,
          n: (event.data as { n?: number } | null)?.n,
        }),
      );
      client.onReset((reset) => tab.resets.push(reset));
      client.onStatus((status) => {
        const error = status.error as { code: string; status: number } | undefined;
        tab.statuses.push({
          status: status.status as string,
          tabs: status.tabs as number,
          leader: status.leader as boolean,
          ...(status.inMs === undefined ? {} : { inMs: status.inMs as number }),
          ...(status.cause === undefined ? {} : { cause: status.cause as string }),
          ...(error ? { error: { code: error.code, status: error.status } } : {}),
        });
      });
      page.client = client;
    }, setup);
  }

  state(): Promise<TabState> {
    return this.page.evaluate(() => (globalThis as unknown as { tab: TabState }).tab);
  }

  async numbers(): Promise<number[]> {
    return (await this.state()).events.flatMap((event) => (event.n === undefined ? [] : [event.n]));
  }

  async lastStatus(): Promise<TabState['statuses'][number] | undefined> {
    return (await this.state()).statuses.at(-1);
  }
}
