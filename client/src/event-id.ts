/** Where an event sits in Kafka: the part of its id before `;` (`topic/partition/offset`). */
export interface EventPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const POSITION = /^([A-Za-z0-9._-]+)\/(\d{1,10})\/(\d{1,16})$/;

/**
 * The position named by an event's id, or undefined for ids that name none (checkpoints and
 * resets carry a bare cursor). The rest of the id is the stream's cursor: opaque to the client.
 */
export function positionOf(id: string): EventPosition | undefined {
  const separator = id.indexOf(';');
  if (separator === -1) return undefined;
  const match = POSITION.exec(id.slice(0, separator));
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]), offset: Number(match[3]) };
}

/**
 * The events a tab has handed to its application, as the highest offset per partition. A stream
 * gives each partition's events in offset order, so anything at or below that mark was handed
 * over already: by the stream before a token rotation, or by the leader tab before a takeover.
 */
export class DeliveredPositions {
  private readonly highest = new Map<string, number>();

  /** Records the position and says whether it is new; an event without one always is. */
  admit(position: EventPosition | undefined): boolean {
    if (!position) return true;
    const key = `${position.topic}/${position.partition}`;
    const seen = this.highest.get(key);
    if (seen !== undefined && position.offset <= seen) return false;
    this.highest.set(key, position.offset);
    return true;
  }

  /** After a reset the log may start again lower (a recreated topic): forget every mark. */
  clear(): void {
    this.highest.clear();
  }
}
