import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { CompressionTypes } from 'kafkajs';
import { compress as lz4Compress } from 'lz4js';
import { compress as snappyCompress } from 'snappyjs';
import {
  decodeGzip,
  decodeLz4,
  decodeOrStandIn,
  decodeSnappy,
  decodeZstd,
  SKIPPED_BATCH_HEADER,
} from './compression-codecs.js';

const require = createRequire(import.meta.url);
// kafkajs's own decoders: the stand-in records must read back through them exactly.
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => {
  readVarIntBytes(): Buffer;
};
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: unknown,
  context: object,
) => { offset: string; value: Buffer | null; headers: Record<string, Buffer> };

const LIMIT = 1024 * 1024;
const text = (length: number) =>
  Buffer.from('a kafka record for the gateway. '.repeat(Math.ceil(length / 32)).slice(0, length));

/** 'line NNNNN of the fixture…' ×2700, compressed by the lz4 tool with linked blocks (-BD -B4). */
const LINKED_LZ4 =
  'BCJNGERAXg8DAAD1JWxpbmUgMDAwMDAgb2YgdGhlIGZpeHR1cmUsIGxpbmtlZCBibG9ja3MgcmVmZXIgYmFjawo0AB8xNAAgHzI0ACAfMzQAIB80NAAgHzU0ACAfNjQAIB83NAAgHzg0ACAfOTQAHx8xCAIgHzEIAiAfMQgCIB8xCAIgHzEIAiAfMQgCIB8xCAIgHzEIAiAfMQgCIB8xCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNggCIB82CAIgHzYIAiAfNggCIB82CAIgHzYIAiAfNggCIB82CAIgHzYIAiAfNggCIB83CAIgHzcIAiAfNwgCIB83CAIgHzcIAiAfNwgCIB83CAIgHzcIAiAfNwgCIB83CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOQgCIB85CAIgHzkIAiAfOQgCIB85CAIgHzkIAiAfOQgCIA+0E////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////xlQb2YgdGjiAgAAD/D/Gg/c7SAfMNztIB8w3O0gHzDc7SAfMNztIB8w3O0gHzDc7SEP5O8gHzDk7yAfMOTvIB8xCAIgHzEIAiAfMQgCIB8xCAIgHzEIAiAfMQgCIB8xCAIgHzEIAiAfMQgCIB8xCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMggCIB8yCAIgHzIIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB8zCAIgHzMIAiAfMwgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzQIAiAfNAgCIB80CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNQgCIB81CAIgHzUIAiAfNggCIB82CAIgHzYIAiAfNggCIB82CAIgHzYIAiAfNggCIB82CAIgHzYIAiAfNggCIB83CAIgHzcIAiAfNwgCIB83CAIgHzcIAiAfNwgCIB83CAIgHzcIAiAfNwgCIB83CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOAgCIB84CAIgHzgIAiAfOQgCIB85CAIgHzkIAiAfOQgCIB85CAIgHzkIAiAfOQgCIB8wbAEgD7QT///////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////AUGxpbmtlLgAAAA9w7P///////////////////////////////////////////////3xQYmFjawoAAAAAQk2IoQ==';
/** A small zstd frame, as the zstd tool writes it. */
const ZSTD_FRAME = 'KLUv/SQxiQEAeyJ0eXBlIjoidCIsImRhdGEiOiJoZWxsbyB6c3RkIiwidXNlcklkIjoiYWxpY2Uiff2zF5A=';
/** 2,000,000 zero bytes, as one zstd frame without a declared size. */
const ZSTD_BOMB =
  'KLUv/QRYVAAAEAAAAQD7/znAAgIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAgAQAAIAEAACABAAAyQEAA7JdNc=';
/** 200,000 zero bytes, one zstd frame that declares its size. */
const ZSTD_DECLARED = 'KLUv/aRADQMATAAACAABAPz/ORACA2oIAMTpdHA=';

describe('compression codecs', () => {
  describe('gzip', () => {
    it('should inflate a batch', async () => {
      expect(await decodeGzip(gzipSync(text(5000)), LIMIT)).toEqual(text(5000));
    });

    it('should refuse to inflate a bomb past the limit', async () => {
      const bomb = gzipSync(Buffer.alloc(20 * LIMIT));

      await expect(Promise.resolve(decodeGzip(bomb, LIMIT))).rejects.toThrow();
    });
  });

  describe('snappy', () => {
    it('should read raw snappy', () => {
      expect(decodeSnappy(Buffer.from(snappyCompress(text(3000))), LIMIT)).toEqual(text(3000));
    });

    it("should read the xerial framing of Java's producer", () => {
      const blocks = [text(1000), text(2000)].map((block) => Buffer.from(snappyCompress(block)));
      const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
      const framed = Buffer.concat([
        header,
        ...blocks.flatMap((block) => [Buffer.from([0, 0, block.length >> 8, block.length & 0xff]), block]),
      ]);

      expect(decodeSnappy(framed, LIMIT)).toEqual(Buffer.concat([text(1000), text(2000)]));
    });

    it('should refuse a block that declares more than the limit', () => {
      expect(() => decodeSnappy(Buffer.from(snappyCompress(Buffer.alloc(LIMIT + 1))), LIMIT)).toThrow();
    });
  });

  describe('lz4', () => {
    it('should read a frame', () => {
      expect(decodeLz4(Buffer.from(lz4Compress(text(200_000))), LIMIT)).toEqual(text(200_000));
    });

    it('should read a frame whose blocks refer back to earlier ones', () => {
      const expected = Array.from(
        { length: 2700 },
        (_, i) => `line ${String(i % 97).padStart(5, '0')} of the fixture, linked blocks refer back\n`,
      ).join('');

      expect(decodeLz4(Buffer.from(LINKED_LZ4, 'base64'), LIMIT).toString()).toBe(expected);
    });

    it('should stop at the limit', () => {
      expect(() => decodeLz4(Buffer.from(lz4Compress(Buffer.alloc(4 * LIMIT))), LIMIT)).toThrow();
    });

    it('should refuse what is not a frame', () => {
      expect(() => decodeLz4(Buffer.from('not lz4 at all'), LIMIT)).toThrow('not an LZ4 frame');
    });
  });

  describe('zstd', () => {
    it('should read a frame', () => {
      expect(decodeZstd(Buffer.from(ZSTD_FRAME, 'base64'), LIMIT).toString()).toBe(
        '{"type":"t","data":"hello zstd","userId":"alice"}',
      );
    });

    it('should stop a frame without a declared size at the limit', () => {
      expect(decodeZstd(Buffer.from(ZSTD_BOMB, 'base64'), 4 * LIMIT)).toHaveLength(2_000_000);
      expect(() => decodeZstd(Buffer.from(ZSTD_BOMB, 'base64'), LIMIT)).toThrow();
    });

    it('should take the window of a streaming producer (2 MiB, one raw block) under a smaller limit', () => {
      const frame = Buffer.from([
        0x28,
        0xb5,
        0x2f,
        0xfd,
        0x00,
        0x58,
        0x29,
        0x00,
        0x00,
        ...Buffer.from('hello'),
      ]);

      expect(decodeZstd(frame, 64 * 1024).toString()).toBe('hello');
    });

    it('should refuse a frame that declares more than the limit before decoding it', () => {
      expect(() => decodeZstd(Buffer.from(ZSTD_DECLARED, 'base64'), 100_000)).toThrow();
      expect(decodeZstd(Buffer.from(ZSTD_DECLARED, 'base64'), 200_000)).toHaveLength(200_000);
    });
  });

  describe('a batch that cannot be read', () => {
    /**
     * A fetched v2 batch of `count` records ending at offset base + lastOffsetDelta, and the view
     * of its compressed records that kafkajs hands a codec.
     */
    function fetchedBatch(
      type: CompressionTypes,
      count: number,
      lastOffsetDelta: number,
      compressed: Buffer,
    ): Buffer {
      const header = Buffer.alloc(61);
      header.writeBigInt64BE(100n, 0);
      header.writeInt32BE(49 + compressed.length, 8);
      header.writeInt8(2, 16);
      header.writeInt16BE(type, 21);
      header.writeInt32BE(lastOffsetDelta, 23);
      header.writeInt32BE(count, 57);
      const fetched = Buffer.concat([Buffer.from('other batches before it'), header, compressed]);
      return fetched.subarray(fetched.length - compressed.length);
    }

    it('should answer with records that kafkajs reads as the batch, the first one marked with the reason', async () => {
      const compressed = fetchedBatch(CompressionTypes.GZIP, 3, 4, gzipSync(Buffer.alloc(4 * LIMIT)));

      const records = await decodeOrStandIn(compressed, CompressionTypes.GZIP, decodeGzip, LIMIT);

      const decoder = new Decoder(records);
      const read = [0, 1, 2].map(() =>
        decodeRecord(new Decoder(decoder.readVarIntBytes()), { firstOffset: '100', firstTimestamp: '0' }),
      );
      expect(read.map((record) => [record.offset, record.value])).toEqual([
        ['104', null],
        ['104', null],
        ['104', null],
      ]);
      expect(read[0]!.headers[SKIPPED_BATCH_HEADER]?.toString()).toBe('too-large');
      expect(Object.keys(read[1]!.headers)).toEqual([]);
    });

    it('should mark a batch that does not decode as undecodable', async () => {
      const compressed = fetchedBatch(CompressionTypes.LZ4, 1, 0, Buffer.from('garbage'));

      const records = await decodeOrStandIn(compressed, CompressionTypes.LZ4, decodeLz4, LIMIT);

      const record = decodeRecord(new Decoder(new Decoder(records).readVarIntBytes()), {
        firstOffset: '100',
        firstTimestamp: '0',
      });
      expect(record.headers[SKIPPED_BATCH_HEADER]?.toString()).toBe('undecodable');
    });

    it('should give up, for the consumer to stop, when the header before the records is not a batch', async () => {
      const compressed = fetchedBatch(CompressionTypes.Snappy, 1, 0, Buffer.from('garbage'));

      await expect(decodeOrStandIn(compressed, CompressionTypes.LZ4, decodeLz4, LIMIT)).rejects.toThrow(
        'does not match',
      );
      // A buffer of its own, not a view into a fetched batch.
      await expect(decodeOrStandIn(Buffer.alloc(7), CompressionTypes.LZ4, decodeLz4, LIMIT)).rejects.toThrow(
        'no batch header',
      );
    });
  });
});
