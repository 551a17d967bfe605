import { LogPosition } from './log-position.js';
import { PositionJournal, type JournalWriter } from './position-journal.js';

const turn = () => new Promise((done) => setImmediate(done));

describe(PositionJournal.name, () => {
  const position = LogPosition.parse('orders=AQs')!;
  let topic: string[];
  let looked: number[];
  let writer: JournalWriter;

  beforeEach(() => {
    topic = [];
    looked = [];
    writer = {
      write: (text) => Promise.resolve(topic.push(text) - 1),
      look: (offset) => {
        looked.push(offset);
        return Promise.resolve(topic[offset]);
      },
    };
  });

  it('should name its newest checkpoint once Kafka took it, by its offset in base 36', async () => {
    const sut = new PositionJournal(10);
    sut.attach(writer);
    topic.push(...Array.from({ length: 40 }, () => 'other'));

    sut.take(position, ['orders'], 1);
    await turn();

    expect(sut.latest?.name).toBe('14');
    expect(sut.resolve(40)?.format(['orders'])).toBe(position.format(['orders']));
  });

  it('should read a checkpoint it no longer keeps from the topic', async () => {
    const sut = new PositionJournal(2);
    sut.attach(writer);
    for (let version = 1; version <= 3; version++) {
      sut.take(position, ['orders'], version);
      await turn();
    }
    expect(sut.resolve(0)).toBeUndefined();

    await sut.lookUp(0);

    expect(looked).toEqual([0]);
    expect(sut.resolve(0)?.format(['orders'])).toBe(position.format(['orders']));
  });

  it('should not look up what it keeps, nor anything without the topic', async () => {
    const kept = new PositionJournal(2);
    kept.attach(writer);
    kept.take(position, ['orders'], 1);
    await turn();
    await kept.lookUp(0);
    await new PositionJournal(2).lookUp(0);

    expect(looked).toEqual([]);
  });
});
