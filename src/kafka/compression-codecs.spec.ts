import { gzipSync } from 'node:zlib';
import { compress as lz4Compress } from 'lz4js';
import { compress as snappyCompress } from 'snappyjs';
import { decodeBounded, decodeGzip, decodeSnappy, decodeZstd } from './compression-codecs.js';
import { decodeLz4, lz4BlockOutput } from './lz4-frames.js';
import { SkippedBatch } from './skipped-batch.js';

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

    it('should refuse a short block that declares more than its elements produce', () => {
      // 6 bytes: 32 MiB declared, then one literal byte; snappyjs alone returned 32 MiB of zeros.
      const short = Buffer.from([0x80, 0x80, 0x80, 0x10, 0x00, 0x78]);

      expect(() => decodeSnappy(short, 64 * LIMIT)).toThrow('shorter than it declares');
    });

    it('should refuse a block whose elements produce more than it declares', () => {
      const block = Buffer.from(snappyCompress(text(3000)));
      block[1] = 0x08; // declares 3000 as 1000 (its varint's second byte)

      expect(() => decodeSnappy(block, LIMIT)).toThrow('longer than it declares');
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

    /** A frame of 64 KiB blocks holding `blocks`, each a [size word, data] pair. */
    const frame = (...blocks: Array<[number, Buffer]>): Buffer =>
      Buffer.concat([
        Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]),
        ...blocks.flatMap(([word, data]) => {
          const size = Buffer.alloc(4);
          size.writeUInt32LE(word >>> 0);
          return [size, data];
        }),
        Buffer.alloc(4),
      ]);

    it('should refuse a stored block longer than the frame allows', () => {
      const stored = Buffer.alloc(70_000, 0x61);

      expect(() => decodeLz4(frame([0x80000000 + stored.length, stored]), LIMIT)).toThrow(
        'LZ4 block larger than the frame allows',
      );
    });

    it('should refuse a match that refers to before the start of the output', () => {
      // 'a', then 4 bytes copied from 5 back, then 'b': lz4js alone copied zeros from before the start.
      const block = Buffer.from([0x10, 0x61, 0x05, 0x00, 0x10, 0x62]);

      expect(() => decodeLz4(frame([block.length, block]), LIMIT)).toThrow('LZ4 match before the start');
    });

    it('should tell what a block produces from its sequences alone, and refuse one past the block size', () => {
      const ok = Buffer.from([0x1f, 0x61, 0x01, 0x00, 0x02, 0x10, 0x62]);
      expect(lz4BlockOutput(ok, 0, ok.length, 0, 65_536)).toBe(1 + 15 + 2 + 4 + 1);
      // 60 KB of match-length bytes would make 15 MB: refused without producing any of it.
      const long = Buffer.concat([
        Buffer.from([0x1f, 0x61, 0x01, 0x00]),
        Buffer.alloc(60_000, 0xff),
        Buffer.from([0, 0x10, 0x62]),
      ]);
      expect(() => lz4BlockOutput(long, 0, long.length, 0, 65_536)).toThrow(
        'LZ4 block larger than the frame allows',
      );
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
    it('should refuse it as undecodable, or too large, for the fetch decoder to stand in for it', async () => {
      const bomb = gzipSync(Buffer.alloc(4 * LIMIT));

      await expect(decodeBounded(bomb, decodeGzip, LIMIT)).rejects.toEqual(new SkippedBatch('too-large'));
      await expect(decodeBounded(Buffer.from('garbage'), decodeLz4, LIMIT)).rejects.toMatchObject({
        name: 'SkippedBatch',
        reason: 'undecodable',
      });
      expect(await decodeBounded(gzipSync(text(100)), decodeGzip, LIMIT)).toEqual(text(100));
    });
  });
});
