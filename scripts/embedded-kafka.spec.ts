import { clusterId } from './embedded-kafka.mjs';

describe('the embedded Kafka', () => {
  it("should make cluster ids of 22 base64url characters that Kafka's storage tool takes as a value", () => {
    // One id in 64 would start with "-" if drawn freely: 5,000 draws meet it all but surely.
    const ids = Array.from({ length: 5000 }, () => clusterId());

    expect(ids.filter((id) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
