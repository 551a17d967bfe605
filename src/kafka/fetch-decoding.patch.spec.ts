import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { registerCompressionCodecs } from './compression-codecs.js';
import {
  decodePartitionRecords,
  fetchDecodingProblem,
  limitRecordsPerFetch,
  type DecodedRecord,
} from './fetch-decoding.patch.js';
import { SKIPPED_BATCH_HEADER, SKIPPED_COUNT_HEADER, SKIPPED_FROM_HEADER } from './skipped-batch.js';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => never;

const GZIP = 1;

/** A zigzag varint, as record fields are written. */
function varint(value: number): number[] {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  for (; zigzag >= 0x80; zigzag = Math.floor(zigzag / 0x80)) bytes.push((zigzag % 0x80) | 0x80);
  bytes.push(zigzag);
  return bytes;
}

/** `count` records with null keys, values `v<i>` (or null), no headers. */
function records(count: number, tombstones = false): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const value = tombstones ? varint(-1) : [...varint(`v${i}`.length), ...Buffer.from(`v${i}`)];
    const body = [0, ...varint(0), ...varint(i), ...varint(-1), ...value, ...varint(0)];
    parts.push(Buffer.from([...varint(body.length), ...body]));
  }
  return Buffer.concat(parts);
}

/** A v2 record batch as the broker returns it; `body` replaces the records when given. */
function batch(
  firstOffset: number,
  count: number,
  options: { compression?: number; body?: Buffer; tombstones?: boolean } = {},
): Buffer {
  const plain = records(count, options.tombstones);
  const body = options.body ?? (options.compression === GZIP ? gzipSync(plain) : plain);
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(BigInt(firstOffset), 0);
  header.writeInt32BE(49 + body.length, 8);
  header.writeInt8(2, 16);
  header.writeInt16BE(options.compression ?? 0, 21);
  header.writeInt32BE(count - 1, 23);
  header.writeBigInt64BE(1_700_000_000_000n, 27);
  header.writeBigInt64BE(1_700_000_000_000n, 35);
  header.writeBigInt64BE(-1n, 43);
  header.writeInt32BE(count, 57);
  return Buffer.concat([header, body]);
}

/** A partition's record set in a fetch response: its size, then its batches. */
function decode(...batches: Buffer[]): Promise<DecodedRecord[]> {
  const set = Buffer.concat(batches);
  const size = Buffer.alloc(4);
  size.writeInt32BE(set.length);
  return decodePartitionRecords(new Decoder(Buffer.concat([size, set])));
}

const header = (record: DecodedRecord, name: string): string | undefined => record.headers[name]?.toString();

describe('kafkajs fetch decoding, as the gateway fixes it', () => {
  beforeEach(() => {
    registerCompressionCodecs(1024 * 1024);
    limitRecordsPerFetch(1000);
  });

  it('should be what every fetch response version of kafkajs decodes record sets with', () => {
    expect(fetchDecodingProblem).toBeUndefined();
    expect(require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js')).toBe(decodePartitionRecords);
  });

  it('should decode a batch of 200,000 records, past which kafkajs overflowed the stack gathering them', async () => {
    registerCompressionCodecs(4 * 1024 * 1024);
    limitRecordsPerFetch(200_000);

    const decoded = await decode(batch(0, 200_000, { compression: GZIP, tombstones: true }));

    expect(decoded).toHaveLength(200_000);
    expect(decoded.at(-1)!.offset).toBe('199999');
  });

  it('should put one record in place of a batch that declares too many, read from its header', async () => {
    const decoded = await decode(batch(100, 1001, { compression: GZIP }), batch(1101, 2));

    expect(decoded.map((record) => [record.offset, record.value?.toString() ?? null])).toEqual([
      ['1100', null],
      ['1101', 'v0'],
      ['1102', 'v1'],
    ]);
    expect(header(decoded[0]!, SKIPPED_BATCH_HEADER)).toBe('too-many-records');
    expect(header(decoded[0]!, SKIPPED_FROM_HEADER)).toBe('100');
    expect(header(decoded[0]!, SKIPPED_COUNT_HEADER)).toBe('1001');
  });

  it('should leave batches past the bound for the next fetch', async () => {
    const decoded = await decode(batch(0, 600), batch(600, 600), batch(1200, 10));

    expect(decoded).toHaveLength(600);
    expect(decoded.at(-1)!.offset).toBe('599');
  });

  it('should put one record in place of a batch its codec refuses, with the reason', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));

    const decoded = await decode(
      batch(0, 3, { compression: GZIP, body: bomb }),
      batch(3, 2, { compression: GZIP, body: Buffer.from('not gzip') }),
      batch(5, 1),
    );

    expect(decoded.map((record) => [record.offset, header(record, SKIPPED_BATCH_HEADER)])).toEqual([
      ['2', 'too-large'],
      ['4', 'undecodable'],
      ['5', undefined],
    ]);
  });

  it('should put one record in place of a batch whose records are corrupt, instead of failing the fetch', async () => {
    const corrupt = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff]);

    const decoded = await decode(batch(0, 2, { body: corrupt }), batch(2, 1));

    expect(decoded.map((record) => [record.offset, header(record, SKIPPED_BATCH_HEADER)])).toEqual([
      ['1', 'undecodable'],
      ['2', undefined],
    ]);
  });

  it('should stop at a batch the fetch cut off, which comes whole with the next fetch', async () => {
    const cut = batch(2, 5).subarray(0, 70);

    const decoded = await decode(batch(0, 2), cut);

    expect(decoded.map((record) => record.offset)).toEqual(['0', '1']);
  });
});
