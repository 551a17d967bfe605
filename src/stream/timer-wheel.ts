/** Something the wheel calls back; `timerSlot` belongs to the wheel. */
export interface WheelTask {
  timerSlot: number | undefined;
  onTimer(now: number): void;
}

/**
 * One timer for every stream's heartbeats, lifetime and token expiry: tasks are filed in slots of
 * `resolutionMs` and called back at the first tick at or after their slot starts, so a task runs
 * up to one resolution early, never late by more than a tick. A timer per stream would cost every
 * idle stream a Timeout object and its closure.
 */
export class TimerWheel {
  private readonly slots = new Map<number, Set<WheelTask>>();
  private readonly timer: NodeJS.Timeout;
  private processed: number;

  constructor(
    private readonly resolutionMs: number,
    now = Date.now(),
  ) {
    this.processed = Math.floor(now / resolutionMs) - 1;
    this.timer = setInterval(() => this.tick(Date.now()), resolutionMs);
    this.timer.unref();
  }

  get scheduled(): number {
    let count = 0;
    for (const slot of this.slots.values()) count += slot.size;
    return count;
  }

  /** Calls `task` back at about `at` (epoch ms), instead of any earlier schedule. */
  schedule(task: WheelTask, at: number): void {
    this.cancel(task);
    const slot = Math.max(Math.floor(at / this.resolutionMs), this.processed + 1);
    let tasks = this.slots.get(slot);
    if (!tasks) this.slots.set(slot, (tasks = new Set()));
    tasks.add(task);
    task.timerSlot = slot;
  }

  cancel(task: WheelTask): void {
    if (task.timerSlot === undefined) return;
    const tasks = this.slots.get(task.timerSlot);
    tasks?.delete(task);
    if (tasks?.size === 0) this.slots.delete(task.timerSlot);
    task.timerSlot = undefined;
  }

  /** Calls back every task whose slot has started by `now`. */
  tick(now: number): void {
    const due = Math.floor(now / this.resolutionMs);
    while (this.processed < due) {
      const slot = ++this.processed;
      const tasks = this.slots.get(slot);
      if (!tasks) continue;
      this.slots.delete(slot);
      for (const task of tasks) {
        task.timerSlot = undefined;
        task.onTimer(now);
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
