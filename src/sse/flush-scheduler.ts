/** What the scheduler flushes. */
export interface Flushable {
  flush(): void;
}

/**
 * Flushes the writers that asked, once per turn of the event loop, after everything that turn
 * brought in: all the batches of one fetch from Kafka, for instance, so that a stream with
 * several events in them gets one write. One immediate for every writer, not one each.
 */
export class FlushScheduler {
  private readonly due = new Set<Flushable>();
  private armed = false;
  private readonly run = (): void => {
    this.armed = false;
    for (const writer of this.due) {
      this.due.delete(writer);
      writer.flush();
    }
  };

  request(writer: Flushable): void {
    this.due.add(writer);
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.run);
    }
  }

  cancel(writer: Flushable): void {
    this.due.delete(writer);
  }
}
