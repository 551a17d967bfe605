import { EventEmitter } from 'node:events';
import { FlushScheduler } from './flush-scheduler.js';
import { SseWriter, type WritableSink } from './sse-writer.js';

/** A response that records its writes and backs up when told to. */
class FakeSink extends EventEmitter implements WritableSink {
  readonly writes: string[] = [];
  writableLength = 0;
  writableNeedDrain = false;

  write(chunk: string): boolean {
    this.writes.push(chunk);
    if (this.writableNeedDrain) this.writableLength += chunk.length;
    return !this.writableNeedDrain;
  }

  /** The client reads everything that waited. */
  drain(): void {
    this.writableNeedDrain = false;
    this.writableLength = 0;
    this.emit('drain');
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe(SseWriter.name, () => {
  let sink: FakeSink;
  let sut: SseWriter;

  beforeEach(() => {
    sink = new FakeSink();
    sut = new SseWriter(sink, 100, new FlushScheduler());
  });

  it('should write everything queued in one turn of the event loop in one write, after it', async () => {
    expect(sut.enqueue('a\n\n')).toBe(true);
    await Promise.resolve();
    expect(sut.enqueue('b\n\n')).toBe(true);
    expect(sink.writes).toEqual([]);

    await turn();

    expect(sink.writes).toEqual(['a\n\nb\n\n']);
  });

  it('should flush every writer that asked, after one immediate', async () => {
    const scheduler = new FlushScheduler();
    const sinks = [new FakeSink(), new FakeSink()];
    const writers = sinks.map((each) => new SseWriter(each, 100, scheduler));
    writers.forEach((writer, i) => writer.enqueue(`frame ${i}`));

    await turn();

    expect(sinks.map((each) => each.writes)).toEqual([['frame 0'], ['frame 1']]);
  });

  it('should write at once when flushed', () => {
    sut.enqueue('a\n\n');

    sut.flush();
    sut.flush();

    expect(sink.writes).toEqual(['a\n\n']);
  });

  it('should take bursts of any size from a client that reads, writing them in slices as they come', () => {
    for (let i = 0; i < 50; i++) expect(sut.enqueue('x'.repeat(20))).toBe(true);
    sut.flush();

    expect(sink.writes.join('')).toHaveLength(1000);
    expect(Math.max(...sink.writes.map((write) => write.length))).toBeLessThanOrEqual(40);
  });

  it('should never hold more than the bound, queued and in the socket, even within one turn', () => {
    sink.writableNeedDrain = true;
    let taken = 0;
    for (let i = 0; i < 50; i++) if (sut.enqueue('x'.repeat(20))) taken++;

    expect(taken).toBe(5);
    expect(sut.backlog).toBe(100);
    expect(sut.enqueue('x')).toBe(false);
  });

  /** A write the socket refuses: from then on the writer counts what waits. */
  const backUp = (waiting: number): void => {
    sink.writableNeedDrain = true;
    sut.enqueue('x'.repeat(waiting));
    sut.flush();
  };

  it('should answer false, without queueing, once a backed-up client has too much waiting', () => {
    backUp(60);

    expect(sut.enqueue('x'.repeat(30))).toBe(true);
    expect(sut.backlog).toBe(90);
    expect(sut.enqueue('x'.repeat(20))).toBe(false);
    expect(sut.backlog).toBe(90);
  });

  it('should go on once the client reads again', () => {
    backUp(100);
    expect(sut.enqueue('x')).toBe(false);

    sink.drain();

    expect(sut.enqueue('x')).toBe(true);
  });

  it('should call back at once when the socket takes more, and after drain when it is backed up', async () => {
    const calls: string[] = [];
    sut.enqueue('a');
    sut.whenWritable(() => calls.push('free'));
    expect(sink.writes).toEqual(['a']);
    await turn();
    expect(calls).toEqual(['free']);

    sink.writableNeedDrain = true;
    sut.enqueue('b');
    sut.whenWritable(() => calls.push('drained'));
    await turn();
    expect(calls).toEqual(['free']);
    sink.drain();
    expect(calls).toEqual(['free', 'drained']);
  });

  it('should write nothing more once closed, and stop waiting for drain', async () => {
    sink.writableNeedDrain = true;
    sut.enqueue('a');
    const calls: string[] = [];
    sut.whenWritable(() => calls.push('drained'));

    sut.close();
    sut.enqueue('b');
    sink.drain();
    await turn();

    expect(sink.writes).toEqual(['a']);
    expect(calls).toEqual([]);
    expect(sink.listenerCount('drain')).toBe(0);
  });
});
