import type { PartitionLogService } from '../log/partition-log.service.js';
import type { ResumeScope } from '../ownership/ownership.js';
import { RESET_MESSAGES } from '../sse/sse-frame.js';
import { newLog, positionOf } from '../testing/fixtures.js';
import { checkpointLookUp, planResume, resumeFrom, type ResumePlan } from './resume-plan.js';

const CONFIGURED = ['orders', 'chat', 'alerts'];
const EVERY_SLOT: ResumeScope = () => true;

describe(planResume.name, () => {
  let bus: PartitionLogService;

  const plan = (
    lastEventId: string | undefined,
    topics: string[] = ['chat', 'orders'],
    scope = EVERY_SLOT,
  ): ResumePlan =>
    planResume(resumeFrom(lastEventId), { topics, configuredTopics: CONFIGURED, scope, log: bus });
  const entries = (result: ResumePlan) =>
    result.kind === 'resume' ? [...result.from.entries()] : result.kind;
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
    expect(entries(plan('alerts:5,orders:0.0'))).toEqual([
      ['orders', 0, 0],
      ['orders', 1, 0],
    ]);
  });

  it('should resume from the cursor of an event id, and read ids of the first, decimal format', () => {
    const id = `orders/0/0;${cursor(
      [
        ['chat', 0, 3],
        ['orders', 0, 1],
        ['orders', 1, 0],
      ],
      ['chat', 'orders'],
    )}`;

    expect(entries(plan(id))).toEqual([
      ['chat', 0, 3],
      ['orders', 0, 1],
      ['orders', 1, 0],
    ]);
    expect(entries(plan('orders:1.0'))).toEqual([
      ['orders', 0, 1],
      ['orders', 1, 0],
    ]);
  });

  it('should resume a partition the id does not name, added since, from the start of what Kafka has', () => {
    bus.startPartition('orders', 2, 40);
    bus.sawLogStart('orders', 2, 7);

    expect(entries(plan('orders:5.6', ['orders']))).toEqual([
      ['orders', 0, 5],
      ['orders', 1, 6],
      ['orders', 2, 7],
    ]);
    expect(entries(plan('orders:', ['orders']))).toEqual([
      ['orders', 0, 0],
      ['orders', 1, 0],
      ['orders', 2, 7],
    ]);
  });

  it('should ignore slots outside the scope, which another owner need not know', () => {
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
    expect(entries(plan(id, ['chat', 'orders'], scope))).toEqual([
      ['chat', 0, 0],
      ['orders', 1, 0],
    ]);
  });

  it('should have a message for every reset reason', () => {
    expect(Object.keys(RESET_MESSAGES).sort()).toEqual([
      'beyond-horizon',
      'expired',
      'log-changed',
      'malformed-id',
      'unknown-position',
    ]);
  });
});

describe(checkpointLookUp.name, () => {
  it('should read from the topic a checkpoint an id names and this instance does not hold, and only that', async () => {
    const { log } = newLog([['orders', 0]]);
    const looked: number[] = [];
    log.journalWith({
      write: () => Promise.resolve(0),
      look: (offset) => {
        looked.push(offset);
        return Promise.resolve('orders=AQs');
      },
    });

    await checkpointLookUp(resumeFrom('orders/0/3;@z'), log);

    expect(looked).toEqual([35]);
    expect(log.checkpoint(35)?.format(['orders'])).toBe('orders=AQs');
    expect(checkpointLookUp(resumeFrom('orders/0/3;@z'), log)).toBeUndefined();
    expect(checkpointLookUp(resumeFrom('orders=AQs'), log)).toBeUndefined();
    expect(checkpointLookUp(resumeFrom(undefined), log)).toBeUndefined();
  });
});
