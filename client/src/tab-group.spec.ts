import { EventClient, type GatewayEvent, type StatusEvent } from './event-client.js';
import { TabGroup } from './tab-group.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway } from './testing/fake-gateway.js';
import { FakeChannels, FakeLocks } from './testing/fake-tabs.js';

/** One tab of the group: its client and what its application saw. */
interface Tab {
  readonly client: EventClient;
  readonly numbers: number[];
  readonly statuses: StatusEvent[];
}

describe(TabGroup.name, () => {
  let clock: FakeClock;
  let gateway: FakeGateway;
  let locks: FakeLocks;
  let channels: FakeChannels;

  const openTab = async (topics?: string[]): Promise<Tab> => {
    const client = new EventClient({
      url: 'https://gw.example/events',
      ...(topics ? { topics } : {}),
      environment: clock.environment(gateway.fetch),
      locks,
      channel: channels.open,
    });
    const tab: Tab = { client, numbers: [], statuses: [] };
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
    group.suspend();
    await clock.advance(0);
    gateway.last.open().event('notification', 'notifications/0/2', { n: 2 }, 'c2');
    await clock.advance(0);
    group.resume();
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

  it('should close every tab when the gateway refuses the stream for good', async () => {
    const tabs = [await openTab(), await openTab()];
    gateway.last.refuse(403, 'Topic not allowed');
    await clock.advance(60_000);

    expect(tabs.map((tab) => lastStatus(tab))).toEqual([
      expect.objectContaining({ status: 'closed', error: expect.objectContaining({ code: 'forbidden' }) }),
      expect.objectContaining({
        status: 'closed',
        error: expect.objectContaining({ code: 'forbidden', status: 403 }),
      }),
    ]);
    expect(gateway.requests).toHaveLength(1);
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
});
