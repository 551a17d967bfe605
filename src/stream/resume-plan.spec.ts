import type { PartitionLogService } from '../log/partition-log.service.js';
import type { ResumeScope } from '../ownership/ownership.js';
import { RESET_MESSAGES } from '../sse/sse-frame.js';
import { alice, everyone, eventOf, newLog, positionOf, publish } from '../testing/fixtures.js';
import { planResume, resumeFrom, type ResumePlan } from './resume-plan.js';

const CONFIGURED = ['orders', 'chat', 'alerts'];
const EVERY_SLOT: ResumeScope = () => true;

describe(planResume.name, () => {
  let bus: PartitionLogService;

  const plan = (
    lastEventId: string | undefined,
    topics: string[] = ['chat', 'orders'],
    scope = EVERY_SLOT,
  ): ResumePlan =>
    planResume(resumeFrom(lastEventId), {
      userId: 'alice',
      topics,
      configuredTopics: CONFIGURED,
      scope,
      log: bus,
    });
  const cursor = (entries: Array<[string, number, number]>, topics: string[]) =>
    positionOf(entries, topics).format(topics);

  beforeEach(() => {
    ({ log: bus } = newLog());
  });

  it('should go live without a last event id', () => {
    expect(plan(undefined)).toEqual<ResumePlan>({ kind: 'live' });
  });

  it.each(['', 'garbage', 'orders:-1', 'orders:1,orders:2', 'orders/0/1;', 'orders=AQ+I'])(
    'should reset a malformed id %p',
    (id) => {
      expect(plan(id)).toEqual<ResumePlan>({ kind: 'reset', reason: 'malformed-id' });
    },
  );

  it('should reset an id naming a topic that is not configured', () => {
    expect(plan('orders:0,payments:3')).toEqual<ResumePlan>({ kind: 'reset', reason: 'unknown-position' });
  });

  it('should reset an id naming a partition the instance has no position for', () => {
    expect(plan(cursor([['orders', 5, 0]], ['orders']))).toEqual<ResumePlan>({
      kind: 'reset',
      reason: 'unknown-position',
    });
  });

  it('should reset an id naming a configured topic the instance never started', () => {
    expect(plan('alerts:0', ['alerts'])).toEqual<ResumePlan>({ kind: 'reset', reason: 'unknown-position' });
  });

  it("should ignore a configured topic that is not among this stream's topics", () => {
    const result = plan('alerts:5,orders:0');

    expect(result.kind).toBe('replay');
    expect(result.kind === 'replay' && [...result.from.entries()]).toEqual([['orders', 0, 0]]);
  });

  it('should replay what the user missed from the cursor of an event id, in processing order', () => {
    const missedBroadcast = eventOf('chat', 0, 0, everyone);
    const missed = eventOf('orders', 1, 0, { kind: 'users', userIds: ['bob', 'alice'] });
    publish(
      bus,
      eventOf('orders', 0, 0, alice),
      missedBroadcast,
      eventOf('orders', 0, 1, { kind: 'user', userId: 'bob' }),
      missed,
    );
    const id = `orders/0/0;${cursor(
      [
        ['chat', 0, 0],
        ['orders', 0, 1],
        ['orders', 1, 0],
      ],
      ['chat', 'orders'],
    )}`;

    const result = plan(id);

    expect(result.kind === 'replay' && result.events).toEqual([missedBroadcast, missed]);
  });

  it('should read ids of the first, decimal format', () => {
    const missed = eventOf('orders', 1, 0, alice);
    publish(bus, eventOf('orders', 0, 0, alice), missed);

    const result = plan('orders:1.0');

    expect(result.kind === 'replay' && result.events).toEqual([missed]);
  });

  it('should replay nothing for a topic named without partitions', () => {
    publish(bus, eventOf('orders', 0, 0, alice));

    const result = plan('orders:');

    expect(result.kind === 'replay' && result.events).toEqual([]);
  });

  it('should reset when the events after the id are no longer kept', () => {
    bus.startPartition('chat', 1, 100);

    expect(plan(cursor([['chat', 1, 50]], ['chat']))).toEqual<ResumePlan>({
      kind: 'reset',
      reason: 'too-old',
    });
  });

  it('should ignore slots outside the scope, which another owner need not know', () => {
    const missed = eventOf('orders', 1, 0, alice);
    publish(bus, missed);
    const id = cursor(
      [
        ['orders', 1, 0],
        ['orders', 7, 99],
        ['chat', 0, 0],
      ],
      ['chat', 'orders'],
    );
    const scope = (topic: string, partition: number) => topic !== 'orders' || partition === 1;

    expect(plan(id).kind).toBe('reset');
    const result = plan(id, ['chat', 'orders'], scope);

    expect(result.kind === 'replay' && result.events).toEqual([missed]);
    expect(result.kind === 'replay' && [...result.from.entries()]).toEqual([
      ['chat', 0, 0],
      ['orders', 1, 0],
    ]);
  });

  it('should have a message for every reset reason', () => {
    expect(Object.keys(RESET_MESSAGES).sort()).toEqual([
      'log-changed',
      'malformed-id',
      'too-old',
      'unknown-position',
    ]);
  });
});
