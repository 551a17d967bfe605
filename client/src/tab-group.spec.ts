import { EventClient, type ClientOptions, type GatewayEvent, type StatusEvent } from './event-client.js';
import { TabGroup } from './tab-group.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway, tokenExpiringAt } from './testing/fake-gateway.js';
import { FakeChannels, FakeLocks } from './testing/fake-tabs.js';

/** One tab of the group: its client and what its application saw. */
interface Tab {
  readonly client: EventClient;
  readonly numbers: number[];
  readonly statuses: StatusEvent[];
  readonly resets: string[];
}

describe(TabGroup.name, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let locks: FakeLocks;
  let channels: FakeChannels;

  /** A tab of alice's, who signs in by cookie: the application names the user with shareKey. */
  const openTab = async (topics?: string[], options: Partial<ClientOptions> = {}): Promise<Tab> => {
    const client = new EventClient({
      url: 'https://gw.example/events',
      shareKey: 'alice',
      ...(topics ? { topics } : {}),
      ...options,
      environment: clock.environment(gateway.fetch),
      locks,
      channel: channels.open,
      ...options,
    });
    const tab: Tab = { client, numbers: [], statuses: [], resets: [] };
    client.onReset((reset) => tab.resets.push(reset.reason));
    client.onAny((event: GatewayEvent) => tab.numbers.push((event.data as { n: number }).n));
    client.onStatus((status) => tab.statuses.push(status));
    await clock.advance(0);
    return tab;
  };

  const lastStatus = (tab: Tab) => tab.statuses.at(-1);

  beforeEach(() => {
    clock = new FakeClock();
    gateway = new FakeGateway();
    locks = new FakeLocks();
    channels = new FakeChannels();
  });

  it('should run one stream for three tabs, held by the first', async () => {
    const tabs = [await openTab(), await openTab(), await openTab()];
    gateway.last.open();
    await clock.advance(0);

    expect(gateway.requests).toHaveLength(1);
    expect(tabs.map((tab) => lastStatus(tab))).toEqual([
      { status: 'live', tabs: 3, leader: true },
      { status: 'live', tabs: 3, leader: false },
      { status: 'live', tabs: 3, leader: false },
    ]);
  });

  it('should give every tab every event, in order', async () => {
    const tabs = [await openTab(), await openTab(), await openTab()];
    gateway.last.open();
    for (let n = 1; n <= 5; n++) gateway.last.event('notification', `notifications/0/${n}`, { n });
    await clock.advance(0);

    expect(tabs.map((tab) => tab.numbers)).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5],
    ]);
  });

  it('should stream the union of the tabs’ topics, and give each tab only its own', async () => {
    const orders = await openTab(['orders']);
    gateway.last.open();
    const chat = await openTab(['chat']);
    expect(gateway.last.url).toBe('https://gw.example/events?topics=chat,orders');
    gateway.last
      .open()
      .event('order.created', 'orders/0/1', { n: 1 })
      .event('chat.message', 'chat/0/1', { n: 2 });
    await clock.advance(0);

    expect(gateway.open).toHaveLength(1);
    expect(orders.numbers).toEqual([1]);
    expect(chat.numbers).toEqual([2]);
  });

  it('should stream every topic when one tab wants them all', async () => {
    await openTab(['orders']);
    gateway.last.open();
    await openTab();

    expect(gateway.last.url).toBe('https://gw.example/events');
  });

  it('should let the next tab take over from the last id when the leader closes, nothing lost or repeated', async () => {
    const [leader, second, third] = [await openTab(), await openTab(), await openTab()];
    const first = gateway.last.open();
    for (let n = 1; n <= 3; n++) first.event('notification', `notifications/0/${n}`, { n }, `c${n}`);
    await clock.advance(0);
    leader.client.close();
    await clock.advance(0);

    expect(gateway.requests).toHaveLength(2);
    expect(gateway.last.headers['last-event-id']).toBe('notifications/0/3;c3');
    // A stream from an instance that is behind may give again what the tabs have.
    gateway.last.open();
    for (let n = 2; n <= 6; n++) gateway.last.event('notification', `notifications/0/${n}`, { n }, `c${n}`);
    await clock.advance(0);

    expect(second.numbers).toEqual([1, 2, 3, 4, 5, 6]);
    expect(third.numbers).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lastStatus(second)).toEqual({ status: 'live', tabs: 2, leader: true });
    expect(lastStatus(third)).toEqual({ status: 'live', tabs: 2, leader: false });
    expect(lastStatus(leader)?.status).toBe('closed');
  });

  it('should take over when the leader tab crashes without a word', async () => {
    const [, second] = [await openTab(), await openTab()];
    const first = gateway.last.open().event('notification', 'notifications/0/1', { n: 1 }, 'c1');
    await clock.advance(0);
    channels.opened[0]!.crash();
    locks.drop(
      locks
        .held()
        .filter((name) => name.endsWith(':leader') || name.includes(':tab:'))
        .slice(0, 2),
    );
    await clock.advance(0);
    first.event('notification', 'notifications/0/2', { n: 2 }, 'c2');

    expect(gateway.requests).toHaveLength(2);
    expect(gateway.last.headers['last-event-id']).toBe('notifications/0/1;c1');
    gateway.last.open().event('notification', 'notifications/0/2', { n: 2 }, 'c2');
    await clock.advance(0);
    expect(second.numbers).toEqual([1, 2]);
  });

  it('should hand the stream over while the leader tab is frozen, and take its place in the queue again', async () => {
    const [leader, second] = [await openTab(), await openTab()];
    gateway.last.open().event('notification', 'notifications/0/1', { n: 1 }, 'c1');
    await clock.advance(0);
    const group = (leader.client as unknown as { feed: TabGroup }).feed;
    group.freeze();
    await clock.advance(0);
    gateway.last.open().event('notification', 'notifications/0/2', { n: 2 }, 'c2');
    await clock.advance(0);
    group.thaw();
    await clock.advance(0);

    expect(gateway.open).toHaveLength(1);
    expect(lastStatus(second)).toMatchObject({ status: 'live', leader: true });
    // Frozen, it stayed in the group: it gets what came meanwhile once it runs again.
    expect(leader.numbers).toEqual([1, 2]);
    expect(lastStatus(leader)).toMatchObject({ status: 'live', leader: false, tabs: 2 });
  });

  it('should count a tab that leaves out, and drop its topics from the stream', async () => {
    const orders = await openTab(['orders']);
    gateway.last.open();
    const chat = await openTab(['chat']);
    gateway.last.open();
    await clock.advance(0);
    chat.client.close();
    await clock.advance(0);

    expect(gateway.last.url).toBe('https://gw.example/events?topics=orders');
    gateway.last.open();
    await clock.advance(0);
    expect(gateway.open).toHaveLength(1);
    expect(lastStatus(orders)).toEqual({ status: 'live', tabs: 1, leader: true });
  });

  it('should forget a tab that vanished without a word at the next checkpoint', async () => {
    const leader = await openTab();
    gateway.last.open();
    await openTab();
    await clock.advance(0);
    expect(lastStatus(leader)?.tabs).toBe(2);
    channels.opened[1]!.crash();
    locks.drop(
      locks
        .held()
        .filter((name) => name.includes(':tab:'))
        .slice(1),
    );
    gateway.last.send('event: checkpoint\nid: t=AQI\ndata: \n\n');
    await clock.advance(0);

    expect(lastStatus(leader)?.tabs).toBe(1);
  });

  it('should end each tab on a refusal of its own: the next tab takes over and asks for itself', async () => {
    const tabs = [await openTab(), await openTab()];
    gateway.last.refuse(403, 'This token may read none of the topics');
    await clock.advance(0);

    expect(lastStatus(tabs[0]!)).toMatchObject({
      status: 'closed',
      error: { code: 'forbidden', status: 403 },
    });
    expect(gateway.requests).toHaveLength(2);
    gateway.last.refuse(403, 'This token may read none of the topics');
    await clock.advance(60_000);
    expect(lastStatus(tabs[1]!)).toMatchObject({
      status: 'closed',
      error: { code: 'forbidden', status: 403 },
    });
    expect(gateway.requests).toHaveLength(2);
    expect(locks.held()).toEqual([]);
  });

  it('should give each tab its own stream without Web Locks', async () => {
    for (let i = 0; i < 2; i++) {
      new EventClient({
        url: 'https://gw.example/events',
        environment: clock.environment(gateway.fetch),
        locks: null,
      });
    }
    await clock.advance(0);

    expect(gateway.requests).toHaveLength(2);
  });

  describe('tabs of two users', () => {
    const signedInAs = (sub: string): Partial<ClientOptions> => ({
      shareKey: undefined,
      getToken: () => tokenExpiringAt(clock.time + 3_600_000, sub),
    });

    it('should never give a tab another user’s events: tabs share by the token’s user', async () => {
      const alice = await openTab(undefined, signedInAs('alice'));
      const bob = await openTab(undefined, signedInAs('bob'));
      expect(gateway.requests).toHaveLength(2);
      const [aliceStream, bobStream] = gateway.requests;
      aliceStream!.open().event('notification', 'notifications/0/1', { n: 1 });
      bobStream!.open().event('notification', 'notifications/0/2', { n: 2 });
      await clock.advance(0);

      expect(alice.numbers).toEqual([1]);
      expect(bob.numbers).toEqual([2]);
      expect(aliceStream!.headers.authorization).not.toBe(bobStream!.headers.authorization);
    });

    it('should send a tab of another user away when the application gives both one shareKey', async () => {
      const alice = await openTab(undefined, { ...signedInAs('alice'), shareKey: 'app' });
      gateway.last.open();
      await clock.advance(0);
      const bob = await openTab(undefined, { ...signedInAs('bob'), shareKey: 'app' });
      await clock.advance(0);
      gateway.requests[0]!.event('notification', 'notifications/0/1', { n: 1 });
      gateway.last.open().event('notification', 'notifications/0/2', { n: 2 });
      await clock.advance(0);

      expect(gateway.requests).toHaveLength(2);
      expect(alice.numbers).toEqual([1]);
      expect(bob.numbers).toEqual([2]);
      expect(lastStatus(alice)).toMatchObject({ tabs: 1, leader: true });
      expect(lastStatus(bob)).toMatchObject({ tabs: 1, leader: true });
    });

    it('should not share at all without a user: by cookie and without shareKey each tab streams alone', async () => {
      await openTab(undefined, { shareKey: undefined });
      await openTab(undefined, { shareKey: undefined });

      expect(gateway.requests).toHaveLength(2);
    });

    it('should use the token it read the user from for the first connection', async () => {
      let calls = 0;
      await openTab(undefined, {
        shareKey: undefined,
        getToken: () => {
          calls++;
          return tokenExpiringAt(clock.time + 3_600_000, 'alice');
        },
      });
      gateway.last.open();
      await clock.advance(0);

      expect(calls).toBe(1);
    });
  });

  describe('one refusal, one tab', () => {
    it('should end only the tab that asked for a refused topic, and keep streaming for the others', async () => {
      const orders = await openTab(['orders']);
      const first = gateway.last.open();
      await clock.advance(0);
      const secret = await openTab(['secret']);
      gateway.last.refuse(403, 'Not allowed to read topic(s): secret');
      await clock.advance(20_000);

      expect(lastStatus(secret)).toMatchObject({ status: 'closed', error: { code: 'forbidden' } });
      expect(lastStatus(orders)).toEqual({ status: 'live', tabs: 1, leader: true });
      expect(first.aborted).toBe(false);
      expect(gateway.requests).toHaveLength(2);
    });

    it('should tell a tab that asks for a topic refused before, at once', async () => {
      await openTab(['orders']);
      gateway.last.open();
      await openTab(['secret']);
      gateway.last.refuse(403, 'Not allowed to read topic(s): secret');
      await clock.advance(0);
      const again = await openTab(['secret', 'orders']);
      await clock.advance(0);

      expect(lastStatus(again)).toMatchObject({ status: 'closed', error: { code: 'forbidden' } });
      expect(gateway.requests).toHaveLength(2);
    });

    it('should end only the tab whose topic a new leader’s stream is refused for, and go on without it', async () => {
      const first = await openTab(['orders']);
      gateway.last.open();
      const second = await openTab(['orders']);
      const secret = await openTab(['secret']);
      gateway.last.open();
      await clock.advance(0);
      first.client.close();
      await clock.advance(0);
      expect(gateway.last.url).toBe('https://gw.example/events?topics=orders,secret');
      gateway.last.refuse(403, 'Not allowed to read topic(s): secret');
      await clock.advance(0);

      expect(lastStatus(secret)).toMatchObject({ status: 'closed', error: { code: 'forbidden' } });
      expect(gateway.last.url).toBe('https://gw.example/events?topics=orders');
      gateway.last.open();
      await clock.advance(0);
      expect(lastStatus(second)).toEqual({ status: 'live', tabs: 1, leader: true });
    });

    it('should report a refused rotation to every tab, and keep them live', async () => {
      const errors: string[] = [];
      const options = {
        shareKey: undefined,
        heartbeatMs: 3_600_000,
        getToken: () => tokenExpiringAt(clock.time + 60_000, 'alice'),
      };
      const tabs = [await openTab(undefined, options), await openTab(undefined, options)];
      tabs.forEach((tab) => tab.client.onError((error) => errors.push(error.code)));
      gateway.last.open();
      await clock.advance(45_000);
      gateway.last.refuse(401, 'Token not yet valid');
      await clock.advance(0);

      expect(errors).toEqual(['unauthorized', 'unauthorized']);
      expect(tabs.map((tab) => lastStatus(tab)?.status)).toEqual(['live', 'live']);
    });
  });

  it('should take over within two heartbeat intervals from a leader suspended without a word', async () => {
    const options = { heartbeatMs: 1000 };
    const [silent, second] = [await openTab(undefined, options), await openTab(undefined, options)];
    const first = gateway.last.open().event('notification', 'notifications/0/1', { n: 1 }, 'c1');
    await clock.advance(0);
    channels.opened[0]!.suspend();
    await clock.advance(2000);

    expect(gateway.requests).toHaveLength(2);
    expect(gateway.last.headers['last-event-id']).toBe('notifications/0/1;c1');
    gateway.last.open().event('notification', 'notifications/0/2', { n: 2 }, 'c2');
    await clock.advance(0);
    expect(second.numbers).toEqual([1, 2]);
    expect(lastStatus(second)).toMatchObject({ status: 'live', leader: true });

    // The old leader runs again: it lost its lock, so it lets its stream go and follows.
    channels.opened[0]!.wake();
    await clock.advance(0);
    expect(first.aborted).toBe(true);
    expect(gateway.open).toHaveLength(1);
    expect(lastStatus(silent)).toEqual({ status: 'live', tabs: 2, leader: false });
  });

  it('should follow the new leader once it runs again, even when what it said meanwhile was lost', async () => {
    const options = { heartbeatMs: 1000 };
    const [silent, second] = [await openTab(undefined, options), await openTab(undefined, options)];
    gateway.last.open();
    await clock.advance(0);
    channels.opened[0]!.suspend({ loseIncoming: true });
    await clock.advance(2000);
    gateway.last.open();
    await clock.advance(0);
    channels.opened[0]!.wake();
    await clock.advance(10_000);

    expect(gateway.open).toHaveLength(1);
    expect(lastStatus(silent)).toMatchObject({ leader: false, tabs: 2 });
    expect(lastStatus(second)).toMatchObject({ leader: true, tabs: 2 });
  });

  it('should keep a tab that joins while the leader counts the tabs still here', async () => {
    await openTab(['orders']);
    gateway.last.open();
    await clock.advance(0);
    locks.holdQueries();
    gateway.last.send('event: checkpoint\nid: t=AQI\ndata: \n\n');
    await clock.advance(0);
    const chat = await openTab(['chat']);
    locks.releaseQueries();
    await clock.advance(0);

    expect(gateway.last.url).toBe('https://gw.example/events?topics=chat,orders');
    gateway.last.open().event('chat.message', 'chat/0/1', { n: 1 });
    await clock.advance(0);
    expect(chat.numbers).toEqual([1]);
  });

  it('should let go of every lock and its channel for the back-forward cache, and join again when restored', async () => {
    const leader = await openTab();
    gateway.last.open();
    const second = await openTab();
    await clock.advance(0);
    const group = (second.client as unknown as { feed: TabGroup }).feed;
    group.pause();
    await clock.advance(0);

    expect(locks.held().filter((name) => name.includes(':tab:'))).toHaveLength(1);
    expect(channels.opened[1]!.open).toBe(false);
    expect(lastStatus(leader)?.tabs).toBe(1);
    group.resume();
    await clock.advance(0);
    gateway.last.event('notification', 'notifications/0/1', { n: 1 });
    await clock.advance(0);
    expect(second.numbers).toEqual([1]);
    expect(lastStatus(leader)?.tabs).toBe(2);
  });

  it('should reset a tab that joins a running group past its own last event id', async () => {
    await openTab();
    gateway.last.open().event('notification', 'notifications/0/5', { n: 5 }, 'c5');
    await clock.advance(0);
    const late = await openTab(undefined, { lastEventId: 'notifications/0/1;c1' });
    await clock.advance(0);

    expect(late.resets).toEqual(['joined-group']);
  });

  it('should resume from its own last event id a tab that is the first of its group', async () => {
    await openTab(undefined, { lastEventId: 'notifications/0/1;c1' });

    expect(gateway.last.headers['last-event-id']).toBe('notifications/0/1;c1');
  });

  describe('what other scripts post on the channel', () => {
    const forged = (message: object) => channels.inject({ v: 1, from: 'intruder', ...message });

    it('should take events from the leader only', async () => {
      const [, follower] = [await openTab(), await openTab()];
      gateway.last.open();
      await clock.advance(0);
      forged({ kind: 'block', block: { type: 'notification', data: '{"n":9}', id: 'notifications/0/99;x' } });
      forged({ kind: 'error', error: { code: 'forbidden', status: 403, message: 'no' }, fatal: true });
      await clock.advance(0);
      gateway.last.event('notification', 'notifications/0/1', { n: 1 });
      await clock.advance(0);

      expect(follower.numbers).toEqual([1]);
      expect(lastStatus(follower)?.status).toBe('live');
    });

    it.each([
      ['another protocol version', { v: 2, kind: 'alive' }],
      ['no sender', { from: 42, kind: 'alive' }],
      ['an unknown kind', { kind: 'shutdown' }],
      ['a block without data', { kind: 'block', block: { type: 'x' } }],
      ['a state that ends the tab', { kind: 'state', state: { status: 'closed' }, tabs: 1 }],
      [
        'an error of an unknown code',
        { kind: 'error', error: { code: 'x', status: 1, message: '' }, fatal: true },
      ],
      ['not an object', 'hello'],
    ])('should ignore %s', async (_what, message) => {
      const follower = await openTab();
      gateway.last.open();
      await clock.advance(0);
      const heard: unknown[] = [];
      const group = (follower.client as unknown as { feed: { heard(m: unknown): void } }).feed;
      const original = group.heard.bind(group);
      group.heard = (m) => {
        heard.push(m);
        original(m);
      };
      channels.inject(typeof message === 'string' ? message : { v: 1, from: 'intruder', ...message });
      await clock.advance(0);

      expect(heard).toEqual([]);
    });
  });
});
