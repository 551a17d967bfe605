import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** No Docker engine runs on the CI machines, so the image and compose file are checked statically. */
describe('Container files (e2e)', () => {
  it('should have a compose file that docker-compose accepts, and that requires JWT_SECRET', async () => {
    const env = { ...process.env, JWT_SECRET: 'a-compose-check-secret-of-32-bytes!!' };
    const { stdout } = await run('docker-compose', ['-f', 'docker-compose.yml', 'config'], { env });
    expect(stdout).toContain('apache/kafka');
    expect(stdout).toMatch(/KAFKA_BROKERS: kafka:9092/);

    const { JWT_SECRET: _, ...withoutSecret } = env;
    await expect(
      run('docker-compose', ['-f', 'docker-compose.yml', 'config'], { env: withoutSecret }),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('JWT_SECRET') as unknown,
    });
  });

  it('should build a multi-stage image of production dependencies, run as non-root, with a HEALTHCHECK', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');

    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/health\/live/ms);
  });
});
