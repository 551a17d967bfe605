import { topicsQuery } from './topic-selection.js';
import { resumeFrom, type ResumeFrom } from './resume-plan.js';

/** What a stream request asks for, read from its query and headers before anything else. */
export interface StreamRequest {
  /** The topics asked for (`?topics=a,b`); undefined: every topic the user may read. */
  readonly topics: readonly string[] | undefined;
  /** Partition-owner mode: the instance the request names (`?node=`), after a redirect. */
  readonly node: string | undefined;
  /** From `Last-Event-ID` (EventSource sends it on reconnect) or `?lastEventId=`. */
  readonly resumeFrom: ResumeFrom;
}

export interface StreamQuery {
  readonly topics?: unknown;
  readonly node?: unknown;
  readonly lastEventId?: unknown;
}

/** Reads a stream request; a `topics` query that is not text is a 400. */
export function streamRequest(query: StreamQuery, lastEventIdHeader: string | undefined): StreamRequest {
  return {
    topics: topicsQuery(query.topics),
    node: lastValue(query.node),
    // The header wins: EventSource sends it on every reconnect to the same URL, query and all.
    resumeFrom: resumeFrom(lastEventIdHeader || lastValue(query.lastEventId)),
  };
}

/** A query parameter's value, the last one when repeated; undefined when empty or not text. */
function lastValue(query: unknown): string | undefined {
  const value = Array.isArray(query) ? (query as unknown[]).at(-1) : query;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
