import { createRequire } from 'node:module';
import {
  SKIPPED_BATCH_HEADER,
  SKIPPED_COUNT_HEADER,
  SKIPPED_FROM_HEADER,
  type BatchSkipReason,
} from './skipped-batch.js';

/**
 * A fix of kafkajs 2.2.4's fetch decoding, applied when this module loads.
 *
 * kafkajs gathers a partition's records with `records.push(...batch.records)`: a batch of more
 * than about 125,000 records (191 KiB of gzip holds 140,000 tombstones) overflows V8's stack, the
 * consumer crashes, and its replacement fetches the same batch and crashes again, on every
 * instance. kafkajs has had no release since 2023, so the fix is ours: this module replaces the
 * module that decodes a partition's record set (`fetch/v4/decodeMessages.js`, which every fetch
 * version from 4 to 11 uses) with the function below. It is a replacement of one small module
 * rather than a vendored copy of the library, so every other part of kafkajs stays as released;
 * `fetch-decoding.patch.spec.ts` fails if kafkajs's internals move.
 *
 * The replacement also bounds what one fetch of one partition may decode:
 * - a batch declaring more than `maxRecords` records (read from its header, before any record
 *   is decompressed or decoded) is not decoded: one stand-in record takes its place;
 * - batches after the first stop being decoded once `maxRecords` would be passed; the consumer
 *   fetches them next, from the offset after the last record handed over;
 * - a batch that does not decode (a codec refused it, or its records are corrupt) is replaced
 *   by a stand-in too, instead of failing the whole fetch.
 *
 * The stand-in is a record with a null value at the batch's last offset whose headers say why
 * (see skipped-batch.ts), so the consumer moves past the batch and the handler counts it.
 */

const require = createRequire(import.meta.url);
const FETCH = 'kafkajs/src/protocol/requests/fetch';
/** The fetch response versions that decode record sets themselves (6, 9 and 10 reuse these). */
const RECORD_SET_READERS = [4, 5, 7, 8, 11];

interface KafkajsDecoder {
  readonly buffer: Buffer;
  offset: number;
  readInt32(): number;
  canReadBytes(length: number): boolean;
  readBytes(length: number): Buffer;
}

/** A record as kafkajs decodes it; the consumer reads `offset`, `key`, `batchContext` and more. */
export interface DecodedRecord {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | Buffer[] | undefined>;
  readonly isControlRecord: boolean;
  readonly [field: string]: unknown;
}

const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkajsDecoder;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: KafkajsDecoder,
) => Promise<{ records: DecodedRecord[] }>;
const decodeMessageSet = require('kafkajs/src/protocol/messageSet/decoder') as (
  decoder: KafkajsDecoder,
  size: number,
) => Promise<DecodedRecord[]>;

/** Where a record batch (v2) keeps what is read here, from its start. */
const BATCH = {
  firstOffset: 0,
  length: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  attributes: 21,
  lastOffsetDelta: 23,
  firstTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  firstSequence: 53,
  recordCount: 57,
  records: 61,
} as const;
const RECORD_BATCH_MAGIC = 2;
/** Bytes before `length` counts: the first offset and the length itself. */
const LOG_OVERHEAD = 12;
/** kafkajs reads no batch from fewer bytes than this. */
const MIN_BATCH_BYTES = 49;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;

/** Records one fetch of one partition may decode; set by the transport (one setting per process). */
let maxRecords = 131_072;

/** Sets the record bound (KAFKA_MAX_BATCH_RECORDS). kafkajs's decoding is per process: the last call wins. */
export function limitRecordsPerFetch(max: number): void {
  maxRecords = max;
}

/** Why the fix could not be applied, if it could not; the transport refuses to start then. */
export const fetchDecodingProblem = install();

function install(): string | undefined {
  const loaded = RECORD_SET_READERS.filter(
    (version) => require.cache[require.resolve(`${FETCH}/v${version}/response.js`)],
  );
  if (loaded.length > 0) {
    return `kafkajs decoded fetch responses (version ${loaded.join(', ')}) before the gateway's fix of its fetch decoding was loaded`;
  }
  const path = require.resolve(`${FETCH}/v4/decodeMessages.js`);
  require(path);
  const module = require.cache[path];
  if (!module) return `kafkajs's fetch decoding (${path}) could not be replaced`;
  module.exports = decodePartitionRecords;
  return undefined;
}

/**
 * A partition's record set from a fetch response, as kafkajs's decodeMessages reads it (the
 * decoder stands at the set's size), with the bounds and stand-ins described above.
 */
export async function decodePartitionRecords(decoder: KafkajsDecoder): Promise<DecodedRecord[]> {
  const size = decoder.readInt32();
  if (size <= 0 || !decoder.canReadBytes(size)) return [];
  const set = new Decoder(decoder.readBytes(size));
  if (set.buffer.length <= BATCH.magic || set.buffer.readInt8(BATCH.magic) !== RECORD_BATCH_MAGIC) {
    return decodeMessageSet(set, size);
  }
  const records: DecodedRecord[] = [];
  const { buffer } = set;
  while (set.canReadBytes(MIN_BATCH_BYTES)) {
    const at = set.offset;
    // A batch cut off by the fetch's byte limit: the consumer fetches it whole next time.
    if (buffer.length - at < BATCH.records) break;
    const end = at + LOG_OVERHEAD + buffer.readInt32BE(at + BATCH.length);
    if (end > buffer.length) break;
    const count = Math.max(0, buffer.readInt32BE(at + BATCH.recordCount));
    if (count > maxRecords) {
      records.push(standIn(buffer, at, 'too-many-records'));
      set.offset = end;
      continue;
    }
    // The rest is fetched next time, from the offset after the last record handed over.
    if (records.length > 0 && records.length + count > maxRecords) break;
    try {
      const batch = await decodeRecordBatch(set);
      for (const record of batch.records) records.push(record);
    } catch (err) {
      records.push(standIn(buffer, at, skipReasonOf(err)));
      set.offset = end;
    }
  }
  return records;
}

function skipReasonOf(err: unknown): BatchSkipReason {
  const reason = (err as { name?: unknown; reason?: unknown }).reason;
  return (err as { name?: unknown }).name === 'SkippedBatch' && typeof reason === 'string'
    ? (reason as BatchSkipReason)
    : 'undecodable';
}

/** The one record that takes the place of the batch at `at`, at its last offset. */
function standIn(buffer: Buffer, at: number, reason: BatchSkipReason): DecodedRecord {
  const firstOffset = buffer.readBigInt64BE(at + BATCH.firstOffset);
  const lastOffsetDelta = buffer.readInt32BE(at + BATCH.lastOffsetDelta);
  const attributes = buffer.readInt16BE(at + BATCH.attributes);
  const maxTimestamp = buffer.readBigInt64BE(at + BATCH.maxTimestamp).toString();
  return {
    magicByte: RECORD_BATCH_MAGIC,
    attributes: 0,
    timestamp: maxTimestamp,
    offset: (firstOffset + BigInt(Math.max(0, lastOffsetDelta))).toString(),
    key: null,
    value: null,
    headers: {
      [SKIPPED_BATCH_HEADER]: Buffer.from(reason),
      [SKIPPED_FROM_HEADER]: Buffer.from(firstOffset.toString()),
      [SKIPPED_COUNT_HEADER]: Buffer.from(String(buffer.readInt32BE(at + BATCH.recordCount))),
    },
    // Counted by the handler even when it stands for transaction markers.
    isControlRecord: false,
    batchContext: {
      firstOffset: firstOffset.toString(),
      firstTimestamp: buffer.readBigInt64BE(at + BATCH.firstTimestamp).toString(),
      partitionLeaderEpoch: buffer.readInt32BE(at + BATCH.partitionLeaderEpoch),
      inTransaction: (attributes & TRANSACTIONAL_FLAG) !== 0,
      isControlBatch: (attributes & CONTROL_FLAG) !== 0,
      lastOffsetDelta,
      producerId: buffer.readBigInt64BE(at + BATCH.producerId).toString(),
      producerEpoch: buffer.readInt16BE(at + BATCH.producerEpoch),
      firstSequence: buffer.readInt32BE(at + BATCH.firstSequence),
      maxTimestamp,
    },
  };
}
