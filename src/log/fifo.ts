/** A first-in first-out queue whose shift() is O(1), unlike Array#shift. */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  /** The item `index` places from the head (0 is the head). */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.items[this.head + index];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    // Reclaim the dead prefix once it is the larger part, so memory follows the live size; every
    // item is copied at most once per time the queue halves, so shift stays O(1) amortised.
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 16 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * The index of the first item for which `isAtOrAfter` holds, or `size` if none does; the items
   * must be ordered so that it holds for a suffix of them.
   */
  lowerBound(isAtOrAfter: (item: T) => boolean): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (isAtOrAfter(this.items[this.head + middle] as T)) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
