import { decompressBlock as lz4DecompressBlock } from 'lz4js';
import { SkippedBatch } from './skipped-batch.js';

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_SIZES: Record<number, number> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

/**
 * An LZ4 frame, block by block into one buffer (blocks may refer back to earlier ones), which
 * never grows past the limit plus one block. Every block is checked before it is decoded: no
 * larger than the frame's block size, and its sequences walked (copying nothing) to find what it
 * produces; lz4js decodes without bounds, so a 1 MB block of long matches cost it 740 ms before.
 */
export const decodeLz4 = (input: Buffer, limit: number): Buffer => {
  if (input.length < 7 || input.readUInt32LE(0) !== LZ4_MAGIC) throw new Error('not an LZ4 frame');
  const flags = input[4]!;
  if (flags >> 6 !== 1) throw new Error('unknown LZ4 frame version');
  const maxBlock = LZ4_BLOCK_SIZES[(input[5]! >> 4) & 0x7];
  if (maxBlock === undefined) throw new Error('bad LZ4 block size');
  const blockChecksum = (flags & 0x10) !== 0;
  let at = 6 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1;
  let output = Buffer.alloc(Math.min(limit, 4 * maxBlock));
  let size = 0;
  for (;;) {
    if (at + 4 > input.length) throw new Error('truncated LZ4 frame');
    const word = input.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    if (length > maxBlock) throw new Error('LZ4 block larger than the frame allows');
    if (at + length > input.length) throw new Error('truncated LZ4 block');
    const stored = (word & 0x80000000) !== 0;
    const produces = stored ? length : lz4BlockOutput(input, at, length, size, maxBlock);
    if (size + produces > limit) throw new SkippedBatch('too-large');
    if (size + produces > output.length) {
      const grown = Buffer.alloc(Math.min(limit, Math.max(2 * output.length, size + maxBlock)));
      output.copy(grown, 0, 0, size);
      output = grown;
    }
    if (stored) input.copy(output, size, at, at + length);
    else lz4DecompressBlock(input, output, at, length, size);
    size += produces;
    at += length + (blockChecksum ? 4 : 0);
  }
  return output.subarray(0, size);
};

/**
 * What an LZ4 block produces, from its sequences alone: literal runs and matches, each match
 * within what was produced before it (`before`: the earlier blocks of the frame).
 */
export function lz4BlockOutput(
  input: Buffer,
  at: number,
  length: number,
  before: number,
  max: number,
): number {
  const end = at + length;
  let produced = 0;
  const extended = (count: number): number => {
    for (let byte = 255; byte === 255; count += byte) {
      if (at >= end) throw new Error('truncated LZ4 sequence');
      byte = input[at++]!;
    }
    return count;
  };
  while (at < end) {
    const token = input[at++]!;
    const literals = token >> 4 === 15 ? extended(15) : token >> 4;
    if (at + literals > end) throw new Error('truncated LZ4 literals');
    at += literals;
    produced += literals;
    if (at === end) break;
    if (at + 2 > end) throw new Error('truncated LZ4 match');
    const offset = input.readUInt16LE(at);
    at += 2;
    if (offset === 0 || offset > before + produced) throw new Error('LZ4 match before the start');
    produced += ((token & 15) === 15 ? extended(15) : token & 15) + 4;
    if (produced > max) throw new Error('LZ4 block larger than the frame allows');
  }
  if (produced > max) throw new Error('LZ4 block larger than the frame allows');
  return produced;
}
