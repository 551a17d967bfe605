import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { decompressBlock as lz4DecompressBlock } from 'lz4js';
import { uncompress as snappyUncompress } from 'snappyjs';

/**
 * The header of the one record that stands for a compressed batch the gateway could not read:
 * its value is null and the header says why (see BATCH_SKIP_REASONS).
 */
export const SKIPPED_BATCH_HEADER = 'x-gateway-skipped-batch';
export const BATCH_SKIP_REASONS = ['too-large', 'undecodable'] as const;
export type BatchSkipReason = (typeof BATCH_SKIP_REASONS)[number];

/** More records than this in one skipped batch are not worth standing in for: the consumer stops. */
const MAX_SKIPPED_RECORDS = 1_000_000;

class TooLarge extends Error {}

type Decode = (compressed: Buffer, limit: number) => Buffer | Promise<Buffer>;

/**
 * Registers decoders for every compression codec a Kafka batch may use: gzip (zlib), snappy
 * (snappyjs, raw and the xerial framing of Java producers), lz4 (frames, decoded block by block
 * with lz4js) and zstd (fzstd). kafkajs decodes only gzip, and a batch in another codec crashed its
 * consumer for good. Each decoder is bounded: a batch that would inflate past `maxBytes` is not
 * inflated, and neither is one that does not decode; it reaches the handler as a single record
 * marked with SKIPPED_BATCH_HEADER, so the partition moves on past it.
 *
 * kafkajs keeps its codecs in a registry of its own, one per process: the last registration wins.
 */
export function registerCompressionCodecs(maxBytes: number): void {
  const register = (
    type: CompressionTypes,
    decode: Decode,
    compress?: (input: Buffer) => Promise<Buffer>,
  ) => {
    const codec = {
      compress: (encoder: { buffer: Buffer }) =>
        compress ? compress(encoder.buffer) : Promise.reject(new Error('The gateway only reads this codec')),
      decompress: (compressed: Buffer) => decodeOrStandIn(compressed, type, decode, maxBytes),
    };
    // A property of the default export: Node's ESM loader does not see it as a named export.
    (kafkajs.CompressionCodecs as Record<number, () => typeof codec>)[type] = () => codec;
  };
  const gzipAsync = promisify(gzip);
  register(CompressionTypes.GZIP, decodeGzip, (input) => gzipAsync(input));
  register(CompressionTypes.Snappy, decodeSnappy);
  register(CompressionTypes.LZ4, decodeLz4);
  register(CompressionTypes.ZSTD, decodeZstd);
}

/** Exposed for the unit spec; kafkajs calls it through the registry. */
export async function decodeOrStandIn(
  compressed: Buffer,
  type: CompressionTypes,
  decode: Decode,
  maxBytes: number,
): Promise<Buffer> {
  let reason: BatchSkipReason;
  try {
    const records = await decode(compressed, maxBytes);
    if (records.length <= maxBytes) return records;
    reason = 'too-large';
  } catch (err) {
    reason = err instanceof TooLarge ? 'too-large' : 'undecodable';
  }
  return standInRecords(compressed, type, reason);
}

// ---- decoders ----------------------------------------------------------------------------------

const gunzipAsync = promisify(gunzip);

/** gzip off the event loop (zlib's thread pool), stopped by zlib itself at the limit. */
export const decodeGzip = async (input: Buffer, limit: number): Promise<Buffer> => {
  try {
    return await gunzipAsync(input, { maxOutputLength: limit + 1 });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLarge();
    throw err;
  }
};

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** Raw snappy, or Java's xerial framing: a 16-byte header, then length-prefixed raw blocks. */
export const decodeSnappy = (input: Buffer, limit: number): Buffer => {
  if (input.length < XERIAL_HEADER_BYTES || !input.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappyBlock(input, limit);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < input.length;) {
    if (at + 4 > input.length) throw new Error('truncated xerial block');
    const size = input.readUInt32BE(at);
    at += 4;
    if (at + size > input.length) throw new Error('truncated xerial block');
    const block = snappyBlock(input.subarray(at, at + size), limit - total);
    total += block.length;
    blocks.push(block);
    at += size;
  }
  return Buffer.concat(blocks, total);
};

function snappyBlock(input: Buffer, limit: number): Buffer {
  try {
    return Buffer.from(snappyUncompress(input, limit));
  } catch (err) {
    // snappyjs reads the uncompressed length up front and refuses it past the limit.
    if (err instanceof Error && err.message.includes('is too big')) throw new TooLarge();
    throw err;
  }
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

/**
 * An LZ4 frame, block by block into one buffer (blocks may refer back to earlier ones), which
 * never grows past the limit plus one block.
 */
export const decodeLz4 = (input: Buffer, limit: number): Buffer => {
  if (input.length < 7 || input.readUInt32LE(0) !== LZ4_MAGIC) throw new Error('not an LZ4 frame');
  const flags = input[4]!;
  if (flags >> 6 !== 1) throw new Error('unknown LZ4 frame version');
  const maxBlock = LZ4_BLOCK_SIZES[(input[5]! >> 4) & 0x7];
  if (maxBlock === undefined) throw new Error('bad LZ4 block size');
  const blockChecksum = (flags & 0x10) !== 0;
  let at = 6 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1;
  let output = Buffer.alloc(Math.min(limit + maxBlock, 4 * maxBlock));
  let size = 0;
  for (;;) {
    if (at + 4 > input.length) throw new Error('truncated LZ4 frame');
    const word = input.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    if (at + length > input.length) throw new Error('truncated LZ4 block');
    if (size + maxBlock > output.length) {
      if (size > limit) throw new TooLarge();
      const grown = Buffer.alloc(Math.min(limit + maxBlock, Math.max(2 * output.length, size + maxBlock)));
      output.copy(grown, 0, 0, size);
      output = grown;
    }
    if (word & 0x80000000) {
      input.copy(output, size, at, at + length);
      size += length;
    } else {
      const end = lz4DecompressBlock(input, output, at, length, size);
      if (end - size > maxBlock) throw new Error('LZ4 block larger than the frame allows');
      size = end;
    }
    if (size > limit) throw new TooLarge();
    at += length + (blockChecksum ? 4 : 0);
  }
  return output.subarray(0, size);
};

const ZSTD_MAGIC = 0xfd2fb528;
/**
 * The largest window a zstd frame may ask the decoder to allocate, whatever the output limit:
 * the format's recommended maximum, which every producer's default stays within.
 */
const ZSTD_MAX_WINDOW = 8 * 1024 * 1024;
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * Zstandard frames with fzstd, as a stream whose output is counted. Before any decoding, every
 * frame's header is read (blocks carry their sizes, so no decoding is needed to find the next
 * frame): the decoder allocates a frame's window, or its declared size when it has one.
 */
export const decodeZstd = (input: Buffer, limit: number): Buffer => {
  checkZstdFrames(input, limit);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new ZstdStream((chunk) => {
    total += chunk.length;
    if (total > limit) throw new TooLarge();
    chunks.push(chunk);
  });
  stream.push(input, true);
  return Buffer.concat(chunks, total);
};

function checkZstdFrames(input: Buffer, limit: number): void {
  let at = 0;
  while (at < input.length) {
    if (at + 8 > input.length) throw new Error('truncated zstd frame');
    const magic = input.readUInt32LE(at);
    if ((magic & 0xfffffff0) === ZSTD_SKIPPABLE_MAGIC) {
      at += 8 + input.readUInt32LE(at + 4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Error('not a zstd frame');
    const descriptor = input[at + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    const sizeField = descriptor >> 6;
    const sizeBytes = sizeField === 0 ? singleSegment : [0, 2, 4, 8][sizeField]!;
    let cursor = at + 5;
    let window = 0;
    if (!singleSegment) {
      const windowDescriptor = input[cursor++]!;
      const base = 2 ** (10 + (windowDescriptor >> 3));
      window = base + (base / 8) * (windowDescriptor & 7);
    }
    cursor += dictionaryBytes;
    let declared = 0;
    for (let i = 0; i < sizeBytes; i++) declared += input[cursor + i]! * 2 ** (8 * i);
    if (sizeBytes === 2) declared += 256;
    cursor += sizeBytes;
    if (declared > limit || (singleSegment === 0 && window > Math.max(limit, ZSTD_MAX_WINDOW)))
      throw new TooLarge();
    for (let last = 0; !last;) {
      if (cursor + 3 > input.length) throw new Error('truncated zstd block');
      const header = input[cursor]! | (input[cursor + 1]! << 8) | (input[cursor + 2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw new Error('reserved zstd block type');
      cursor += 3 + (type === 1 ? 1 : size);
    }
    at = cursor + (checksum ? 4 : 0);
  }
}

// ---- the stand-in for a batch that cannot be read ---------------------------------------------

/**
 * kafkajs hands a codec only the compressed records, a view into the fetched batch, whose header
 * comes right before it: ..., attributes (int16, -40), lastOffsetDelta (int32, -38), ..., record
 * count (int32, -4). This reads that header back (checked against the batch length, magic byte
 * and codec) and answers with that many records in place of the batch's: the first marked with
 * the reason, the others bare, all at the batch's last offset, so the consumer moves past it.
 * It depends on kafkajs 2.2.4's decoder, which has had no release since 2023; the unit spec and
 * the e2e test of a decompression bomb fail if that changes.
 */
function standInRecords(compressed: Buffer, type: CompressionTypes, reason: BatchSkipReason): Buffer {
  const start = compressed.byteOffset;
  if (start < 53) throw new Error(`cannot skip an unreadable batch (${reason}): no batch header`);
  const header = Buffer.from(compressed.buffer, start - 53, 53);
  const batchLength = header.readInt32BE(0);
  const magic = header.readInt8(8);
  const attributes = header.readInt16BE(13);
  const lastOffsetDelta = header.readInt32BE(15);
  const count = header.readInt32BE(49);
  if (batchLength !== 49 + compressed.length || magic !== 2 || (attributes & 0x07) !== Number(type)) {
    throw new Error(`cannot skip an unreadable batch (${reason}): the batch header does not match`);
  }
  if (count < 1 || count > MAX_SKIPPED_RECORDS || lastOffsetDelta < 0) {
    throw new Error(`cannot skip an unreadable batch (${reason}) of ${count} records`);
  }
  const marked = record(lastOffsetDelta, [SKIPPED_BATCH_HEADER, reason]);
  const bare = record(lastOffsetDelta);
  const records = Buffer.allocUnsafe(marked.length + (count - 1) * bare.length);
  marked.copy(records, 0);
  for (let i = 1; i < count; i++) bare.copy(records, marked.length + (i - 1) * bare.length);
  return records;
}

/** One record of a v2 batch with a null key and value, optionally one header. */
function record(offsetDelta: number, header?: [string, string]): Buffer {
  const body: number[] = [0, 0, ...varint(offsetDelta), ...varint(-1), ...varint(-1)];
  if (header) {
    const [key, value] = header.map((text) => Buffer.from(text, 'utf8'));
    body.push(...varint(1), ...varint(key!.length), ...key!, ...varint(value!.length), ...value!);
  } else {
    body.push(...varint(0));
  }
  return Buffer.from([...varint(body.length), ...body]);
}

/** A zigzag varint, as Kafka's record format writes signed numbers. */
function varint(value: number): number[] {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  const bytes: number[] = [];
  while (zigzag >= 0x80) {
    bytes.push((zigzag % 0x80) | 0x80);
    zigzag = Math.floor(zigzag / 0x80);
  }
  bytes.push(zigzag);
  return bytes;
}
