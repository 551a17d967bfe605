/** A record of the positions topic, as the consumer that tails it reads it. */
export interface CheckpointRecord {
  readonly offset: number;
  readonly text: string | undefined;
}

/**
 * Checkpoints asked for by id that memory does not hold, found by the one consumer that tails the
 * positions topic (one partition). One ahead of the tail (written by another instance a moment
 * ago) is waited for; one behind it (older than what is kept) is read back: the consumer seeks to
 * it, takes one batch, and seeks back to where the tail stood. Lookups are answered as the records
 * come by, or with undefined once the topic is known not to have them or the deadline passes.
 */
export class CheckpointLookups {
  /** The tail's next offset. */
  private next = 0;
  /** Where the tail stood when the consumer was sent back; undefined while it tails. */
  private returnTo: number | undefined;
  private readonly waiting = new Map<number, Array<(text: string | undefined) => void>>();

  constructor(private readonly seek: (offset: number) => void) {}

  /** The consumer (re)joined and reads from `offset` on: any read back under way is dropped. */
  rejoined(offset: number): void {
    this.next = offset;
    this.returnTo = undefined;
    this.lookBack();
  }

  look(offset: number, deadlineMs: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      const answer = (text: string | undefined): void => {
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        const left = this.waiting.get(offset)?.filter((other) => other !== answer) ?? [];
        if (left.length > 0) this.waiting.set(offset, left);
        else this.waiting.delete(offset);
        resolve(undefined);
      }, deadlineMs);
      timer.unref();
      const list = this.waiting.get(offset);
      if (list) list.push(answer);
      else this.waiting.set(offset, [answer]);
      this.lookBack();
    });
  }

  /**
   * A batch the consumer read, in offset order. Returns true when it is the tail's, whose
   * checkpoints are new, and false for a stretch read back for lookups.
   */
  read(records: readonly CheckpointRecord[], lastOffset: number): boolean {
    for (const { offset, text } of records) this.settle(offset, text);
    const back = this.returnTo;
    // A batch fetched before the consumer was sent back is still the tail's.
    const first = records[0]?.offset ?? lastOffset;
    if (back === undefined || first >= back) {
      this.next = lastOffset + 1;
      if (back !== undefined) this.returnTo = this.next;
      return true;
    }
    // What this stretch passed without finding is not in the topic (any more).
    for (const offset of [...this.waiting.keys()]) if (offset <= lastOffset) this.settle(offset, undefined);
    this.returnTo = undefined;
    this.seek(back);
    this.next = back;
    this.lookBack();
    return false;
  }

  private settle(offset: number, text: string | undefined): void {
    const answers = this.waiting.get(offset);
    if (!answers) return;
    this.waiting.delete(offset);
    for (const answer of answers) answer(text);
  }

  private lookBack(): void {
    if (this.returnTo !== undefined) return;
    let oldest: number | undefined;
    for (const offset of this.waiting.keys()) {
      if (offset < this.next && (oldest === undefined || offset < oldest)) oldest = offset;
    }
    if (oldest === undefined) return;
    this.returnTo = this.next;
    this.seek(oldest);
  }
}
