import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Decompress as ZstdStream } from 'fzstd';
import kafkajs, { CompressionTypes } from 'kafkajs';
import { uncompress as snappyUncompress } from 'snappyjs';
import { decodeLz4 } from './lz4-frames.js';
import { SkippedBatch } from './skipped-batch.js';

type Decode = (compressed: Buffer, limit: number) => Buffer | Promise<Buffer>;

/**
 * Registers decoders for every compression codec a Kafka batch may use: gzip (zlib), snappy
 * (snappyjs, raw and the xerial framing of Java producers), lz4 (frames, decoded block by block
 * with lz4js) and zstd (fzstd). kafkajs decodes only gzip, and a batch in another codec crashed its
 * consumer for good. Each decoder is bounded before it does the work it bounds: a batch that
 * would inflate past `maxBytes` is not inflated, and neither is one that does not decode; the
 * codec throws SkippedBatch, and the fetch decoder (fetch-decoding.patch.ts) puts one record in
 * the batch's place, so the partition moves on past it.
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
      decompress: (compressed: Buffer) => decodeBounded(compressed, decode, maxBytes),
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

/** Runs a decoder; anything that stops it becomes a SkippedBatch with the reason. */
export async function decodeBounded(compressed: Buffer, decode: Decode, maxBytes: number): Promise<Buffer> {
  let records: Buffer;
  try {
    records = await decode(compressed, maxBytes);
  } catch (err) {
    if (err instanceof SkippedBatch) throw err;
    throw new SkippedBatch('undecodable', err instanceof Error ? err.message : String(err));
  }
  if (records.length > maxBytes) throw new SkippedBatch('too-large');
  return records;
}

const tooLarge = (): SkippedBatch => new SkippedBatch('too-large');

// ---- decoders ----------------------------------------------------------------------------------

const gunzipAsync = promisify(gunzip);

/** gzip off the event loop (zlib's thread pool), stopped by zlib itself at the limit. */
export const decodeGzip = async (input: Buffer, limit: number): Promise<Buffer> => {
  try {
    return await gunzipAsync(input, { maxOutputLength: limit + 1 });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
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

/**
 * One raw snappy block. snappyjs allocates what the block declares and decodes without checking
 * that the elements produce it (6 bytes "decode" to 32 MiB of zeros), so the block is walked
 * first, copying nothing: its declared length is checked against the limit and against the most
 * its size can produce, and its elements must produce exactly that length.
 */
function snappyBlock(input: Buffer, limit: number): Buffer {
  checkSnappyBlock(input, limit);
  return Buffer.from(snappyUncompress(input, limit));
}

/** A snappy element produces at most 64 bytes from 3 (a copy with a 2-byte offset). */
const SNAPPY_MAX_RATIO = 64 / 3;

export function checkSnappyBlock(input: Buffer, limit: number): void {
  let at = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    if (at >= input.length || shift > 28) throw new Error('bad snappy length');
    const byte = input[at++]!;
    declared += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (declared > limit) throw tooLarge();
  if (declared > (input.length - at) * SNAPPY_MAX_RATIO)
    throw new Error('snappy block shorter than it declares');
  let produced = 0;
  while (at < input.length) {
    const tag = input[at++]!;
    let length: number;
    if ((tag & 3) === 0) {
      length = (tag >>> 2) + 1;
      if (length > 60) {
        const bytes = length - 60;
        if (at + bytes > input.length) throw new Error('truncated snappy literal');
        length = input.readUIntLE(at, bytes) + 1;
        at += bytes;
      }
      if (at + length > input.length) throw new Error('truncated snappy literal');
      at += length;
    } else {
      const offsetBytes = [0, 1, 2, 4][tag & 3]!;
      if (at + offsetBytes > input.length) throw new Error('truncated snappy copy');
      const offset = offsetBytes === 1 ? input[at]! + ((tag >>> 5) << 8) : input.readUIntLE(at, offsetBytes);
      length = offsetBytes === 1 ? ((tag >>> 2) & 7) + 4 : (tag >>> 2) + 1;
      at += offsetBytes;
      if (offset === 0 || offset > produced) throw new Error('snappy copy before the start');
    }
    produced += length;
    if (produced > declared) throw new Error('snappy block longer than it declares');
  }
  if (produced !== declared) throw new Error('snappy block shorter than it declares');
}

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
    if (total > limit) throw tooLarge();
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
      throw tooLarge();
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
