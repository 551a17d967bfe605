import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterId, missingCommands } from './embedded-kafka.mjs';

describe('the embedded Kafka', () => {
  it("should make cluster ids of 22 base64url characters that Kafka's storage tool takes as a value", () => {
    // One id in 64 would start with "-" if drawn freely: 5,000 draws meet it all but surely.
    const ids = Array.from({ length: 5000 }, () => clusterId());

    expect(ids.filter((id) => !/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the embedded Kafka without Java or Maven', () => {
  const emptyFolder = () => mkdtempSync(join(tmpdir(), 'no-tools-'));

  it('should find neither java nor mvn on a PATH without them', () => {
    expect(missingCommands(['java', 'mvn'], emptyFolder())).toEqual(['java', 'mvn']);
  });

  it('should name both remedies: install Java and Maven, or set KAFKA_BROKERS', () => {
    const result = spawnSync(process.execPath, ['scripts/embedded-kafka.mjs'], {
      env: { PATH: emptyFolder() },
      encoding: 'utf8',
      timeout: 20_000,
    });

    expect(result.status).toBe(1);
    // Maven only counts as missing when the broker's jars are not fetched yet.
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^The embedded Kafka needs Java 17\+ and Maven on PATH; java (and mvn are|is) missing\. Install them \(Debian: apt-get install openjdk-17-jre-headless maven\), or set KAFKA_BROKERS to a Kafka you run yourself\.$/,
      ),
    ]);
  });
});
