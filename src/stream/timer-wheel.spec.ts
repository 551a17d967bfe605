import { TimerWheel, type WheelTask } from './timer-wheel.js';

const START = 1_700_000_000_000;

function task(calls: number[]): WheelTask {
  return { timerSlot: undefined, onTimer: (now) => calls.push(now) };
}

describe(TimerWheel.name, () => {
  let sut: TimerWheel;

  beforeEach(() => {
    sut = new TimerWheel(250, START);
  });

  afterEach(() => sut.stop());

  it('should call a task back at the first tick of its slot, never later than one tick', () => {
    const calls: number[] = [];
    sut.schedule(task(calls), START + 1000);

    sut.tick(START + 999);
    expect(calls).toEqual([]);
    sut.tick(START + 1000);
    expect(calls).toEqual([START + 1000]);
  });

  it('should call a task back up to one resolution early, within its slot', () => {
    const calls: number[] = [];
    sut.schedule(task(calls), START + 1249);

    sut.tick(START + 1000);

    expect(calls).toEqual([START + 1000]);
  });

  it('should call back a task whose time passed at the next tick', () => {
    const calls: number[] = [];
    sut.tick(START + 5000);
    sut.schedule(task(calls), START);

    sut.tick(START + 5250);

    expect(calls).toEqual([START + 5250]);
  });

  it('should replace an earlier schedule, and forget a cancelled task', () => {
    const calls: number[] = [];
    const kept = task(calls);
    sut.schedule(kept, START + 500);
    sut.schedule(kept, START + 3000);
    const cancelled = task(calls);
    sut.schedule(cancelled, START + 500);
    sut.cancel(cancelled);

    sut.tick(START + 2000);
    expect(calls).toEqual([]);
    expect(sut.scheduled).toBe(1);
    sut.tick(START + 3000);
    expect(calls).toEqual([START + 3000]);
    expect(sut.scheduled).toBe(0);
  });

  it('should let a task schedule itself again from its callback, for a later tick', () => {
    const calls: number[] = [];
    const beat: WheelTask = {
      timerSlot: undefined,
      onTimer: (now) => {
        calls.push(now);
        sut.schedule(beat, now);
      },
    };
    sut.schedule(beat, START + 250);

    sut.tick(START + 250);
    sut.tick(START + 250);
    sut.tick(START + 500);

    expect(calls).toEqual([START + 250, START + 500]);
  });

  it('should catch up on every slot after the event loop was blocked', () => {
    const calls: number[] = [];
    for (const at of [500, 1000, 1500]) sut.schedule(task(calls), START + at);

    sut.tick(START + 10_000);

    expect(calls).toEqual([START + 10_000, START + 10_000, START + 10_000]);
  });
});
