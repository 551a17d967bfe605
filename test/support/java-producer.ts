import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classpathFor } from '../../scripts/embedded-kafka.mjs';

export type JavaCodec = 'gzip' | 'snappy' | 'lz4' | 'zstd';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'CompressingProducer.java');

/**
 * Writes `values` to one partition with Kafka's own Java producer (from the broker's jars), in
 * one batch compressed with `codec`; resolves with their offsets. `@zeros:<n>` is n zero bytes,
 * `@empty:<n>` n records with empty values (its offset is the last one's).
 */
export function produceWithJava(
  topic: string,
  partition: number,
  codec: JavaCodec,
  values: readonly string[],
  brokers = process.env.KAFKA_BROKERS ?? '',
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'java',
      [
        '-Xmx512m',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        classpathFor(),
        SOURCE,
        brokers,
        topic,
        String(partition),
        codec,
      ],
      { timeout: 60_000, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`the Java producer failed: ${err.message}\n${stderr}`));
        resolve(stdout.trim().split('\n').map(Number));
      },
    );
    child.stdin?.end(`${values.join('\n')}\n`);
  });
}
