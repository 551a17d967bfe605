import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type RdkafkaCodec = 'gzip' | 'snappy' | 'lz4' | 'zstd';

const here = dirname(fileURLToPath(import.meta.url));
const venv = resolve(here, '..', '..', '.cache', 'python-venv');
const python = join(venv, 'bin', 'python');

/**
 * A Python environment with librdkafka's client (confluent-kafka from PyPI, which ships
 * librdkafka in its wheel), made on first use from test/support/requirements.txt.
 */
function ensurePython(): string {
  if (!existsSync(python)) {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(python, ['-m', 'pip', 'install', '-q', '-r', join(here, 'requirements.txt')], {
      stdio: 'inherit',
    });
  }
  return python;
}

/** Writes `values` to one partition with librdkafka, batched and compressed with `codec`. */
export function produceWithRdkafka(
  topic: string,
  partition: number,
  codec: RdkafkaCodec,
  values: readonly string[],
  brokers = process.env.KAFKA_BROKERS ?? '',
): Promise<number[]> {
  const interpreter = ensurePython();
  return new Promise((done, fail) => {
    const child = execFile(
      interpreter,
      [join(here, 'rdkafka_producer.py'), brokers, topic, String(partition), codec],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return fail(new Error(`the librdkafka producer failed: ${err.message}\n${stderr}`));
        done(stdout.trim().split('\n').map(Number));
      },
    );
    child.stdin?.end(`${values.join('\n')}\n`);
  });
}
