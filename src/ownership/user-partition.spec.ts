import { randomBytes } from 'node:crypto';
import { UserPartitioner } from './user-partition.js';

/** Kafka's `Utils.murmur2`, ported line by line from the Java client, independently of kafkajs. */
function javaMurmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const tail = data.length % 4;
  const body = data.length - tail;
  for (let i = 0; i < body; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  if (tail === 3) h ^= data[body + 2]! << 16;
  if (tail >= 2) h ^= data[body + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[body]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's default partitioner for a keyed record: `toPositive(murmur2(key)) % partitions`. */
const javaPartition = (key: string, partitions: number): number =>
  (javaMurmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;

describe(UserPartitioner.name, () => {
  it('should agree with the hashes of Kafka’s own murmur2 tests', () => {
    // From the Java client's UtilsTest.testMurmur2.
    expect(javaMurmur2(Buffer.from('21'))).toBe(-973932308);
    expect(javaMurmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(javaMurmur2(Buffer.from('abc'))).toBe(479470107);
    const sut = new UserPartitioner(7);

    expect(sut.partitionOf('21')).toBe((-973932308 & 0x7fffffff) % 7);
    expect(sut.partitionOf('foobar')).toBe((-790332482 & 0x7fffffff) % 7);
    expect(sut.partitionOf('abc')).toBe(479470107 % 7);
  });

  it.each([1, 3, 6, 64, 120])(
    'should place random keys as Kafka’s default partitioner does, over %i partitions',
    (count) => {
      const sut = new UserPartitioner(count);
      const keys = [
        ...Array.from({ length: 300 }, () =>
          randomBytes(1 + (randomBytes(1)[0]! % 40)).toString('base64url'),
        ),
        'élodie',
        '用户-42',
        'a'.repeat(256),
      ];

      for (const key of keys) expect([key, sut.partitionOf(key)]).toEqual([key, javaPartition(key, count)]);
    },
  );

  it('should spread users over every partition', () => {
    const sut = new UserPartitioner(6);
    const used = new Set(Array.from({ length: 200 }, (_, i) => sut.partitionOf(`user-${i}`)));

    expect([...used].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
