import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { useGatewaySuite } from './support/gateway-suite.js';
import { TestStream } from './support/sse-client.js';
import { signToken } from './support/tokens.js';

/**
 * An event id as the gateway writes it: `topic/partition/offset;` then either a checkpoint
 * (`@<base36>`, optionally `.<given>`) or the full cursor (`topic=<base64url>` per topic, joined by `~`).
 */
const EVENT_ID = /^[\w.-]+\/\d+\/\d+;(@[0-9a-z]+(\.[\w.~=-]+)?|[\w.-]+=[\w-]+(~[\w.-]+=[\w-]+)*)$/;
const COMPACT_ID = /^[\w.-]+\/\d+\/\d+;@[0-9a-z]+/;

describe('The API docs at /docs (e2e)', () => {
  const suite = useGatewaySuite();
  const document = async () =>
    (await (await fetch(`${suite.gateway.url}/docs/json`)).json()) as {
      info: { version: string; description: string };
    };

  it('should give the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

    expect((await document()).info.version).toBe(version);
  });

  it('should show an event id of the form a stream sends today', async () => {
    const user = `docs-${randomUUID().slice(0, 8)}`;
    const stream = suite.track(
      new TestStream(`${suite.gateway.url}/events?topics=orders,chat`, {
        headers: { authorization: `Bearer ${await signToken({ sub: user })}` },
      }),
    );
    await stream.waitForOpen();
    await suite.producer.send('orders', [{ type: 'notification', data: 1, userId: user }], 1);
    const sent = await stream.waitForEvent((event) => event.type === 'notification');

    const example = /e\.g\.\s+`([^`]+)`/.exec((await document()).info.description)?.[1];

    expect(sent.id).toMatch(EVENT_ID);
    expect(example).toMatch(COMPACT_ID);
  });
});
