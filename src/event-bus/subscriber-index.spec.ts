import { broadcastKey, userKey } from '../log/audience.js';
import type { HubSubscriber, TopicSet } from './stream-hub.js';
import { SubscriberIndex } from './subscriber-index.js';

function subscriber(userId: string, topics: string[]): HubSubscriber {
  const topicSet: TopicSet = { topics, key: topics.join(',') };
  return {
    userId,
    topicSet,
    deliver: () => undefined,
    logChanged: () => undefined,
    feedLost: () => undefined,
  };
}

const holders = (sut: SubscriberIndex, topic: string, userId: string): HubSubscriber[] => {
  const found = sut.holdersOf(topic, userKey(userId));
  if (found === undefined) return [];
  return found instanceof Set ? [...(found as ReadonlySet<HubSubscriber>)] : [found as HubSubscriber];
};

describe(SubscriberIndex.name, () => {
  let sut: SubscriberIndex;

  beforeEach(() => {
    sut = new SubscriberIndex();
  });

  it("should find a user's streams by topic, one or several", () => {
    const phone = subscriber('alice', ['chat', 'orders']);
    const laptop = subscriber('alice', ['orders']);
    const bobs = subscriber('bob', ['orders']);
    [phone, laptop, bobs].forEach((added) => sut.add(added));

    expect(holders(sut, 'chat', 'alice')).toEqual([phone]);
    expect(holders(sut, 'orders', 'alice')).toEqual([phone, laptop]);
    expect(holders(sut, 'orders', 'carol')).toEqual([]);
    expect([...sut.subscribersOf('orders')]).toEqual([phone, laptop, bobs]);
    expect(sut.size).toBe(3);
  });

  it('should forget removed streams, down to nothing', () => {
    const phone = subscriber('alice', ['chat', 'orders']);
    const laptop = subscriber('alice', ['orders']);
    sut.add(phone);
    sut.add(laptop);

    sut.remove(phone);
    expect(holders(sut, 'orders', 'alice')).toEqual([laptop]);
    expect(holders(sut, 'chat', 'alice')).toEqual([]);
    sut.remove(laptop);

    expect(sut.size).toBe(0);
    expect([...sut.subscribersOf('orders')]).toEqual([]);
    expect([...sut.all()]).toEqual([]);
  });

  it('should never file a user under a broadcast key', () => {
    sut.add(subscriber('b:orders', ['orders']));

    expect(sut.holdersOf('orders', broadcastKey('orders'))).toBeUndefined();
  });
});
