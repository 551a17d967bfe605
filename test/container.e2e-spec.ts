import { spawnSync } from 'node:child_process';
import { DCLinter as UntypedLinter } from 'dclint';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The part of dclint's linter used here: its own typings do not resolve under NodeNext. */
interface ComposeLinter {
  lintFiles(
    paths: string[],
    recursive: boolean,
  ): Array<{ messages: Array<{ rule: string; type: 'error' | 'warning'; message: string }> }>;
}
const Linter = UntypedLinter as unknown as new (config: object) => ComposeLinter;

/**
 * The project's dclint configuration (`.dclintrc`), which `npx dclint docker-compose.yml` reads
 * too: the schema check and the error rules on, opinions on layout and naming off.
 */
const LINT_CONFIG = JSON.parse(readFileSync('.dclintrc', 'utf8')) as { rules: Record<string, number> };

/**
 * The compose file checked against the Compose specification's JSON schema (dclint, which ships
 * the schema and validates it without Docker): no Docker engine or docker-compose runs on these
 * machines.
 */
function lintCompose(path: string): Array<{ rule: string; message: string }> {
  const linter = new Linter({ rules: LINT_CONFIG.rules, quiet: true, debug: false, exclude: [] });
  return linter
    .lintFiles([path], false)
    .flatMap((result) => result.messages.filter((message) => message.type === 'error'))
    .map((message) => ({ rule: message.rule, message: message.message }));
}

interface ComposeFile {
  services: Record<string, { image?: string; build?: unknown; environment?: Record<string, unknown> }>;
}

describe('Container files (e2e)', () => {
  it('should have a compose file that the Compose specification accepts', () => {
    expect(lintCompose('docker-compose.yml')).toEqual([]);
  });

  it('should pass `npx dclint docker-compose.yml` as a user runs it, with no problem at all', () => {
    const run = spawnSync(process.execPath, ['node_modules/dclint/bin/dclint.cjs', 'docker-compose.yml'], {
      encoding: 'utf8',
    });

    expect([run.status, `${run.stdout}${run.stderr}`.trim()]).toEqual([0, '']);
  });

  it('should have a schema check that catches a broken compose file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(
        broken,
        'services:\n  gateway:\n    image: gateway\n    ports: 3000\n    restart: sometimes\n',
      );

      expect(lintCompose(broken)).toEqual(
        expect.arrayContaining([expect.objectContaining({ rule: 'invalid-schema' })]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should run Kafka and the gateway, and refuse to start without JWT_SECRET', () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as ComposeFile;

    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:/);
    expect(compose.services.gateway?.build).toBeDefined();
    expect(compose.services.gateway?.environment?.KAFKA_BROKERS).toBe('kafka:9092');
    // `${VAR:?message}`: compose stops with the message when the variable is unset or empty.
    expect(compose.services.gateway?.environment?.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
  });

  it('should build a multi-stage image of production dependencies on Node 24, run as non-root, with a HEALTHCHECK', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');

    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[.\w-]*$/m);
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\/health\/live/ms);
  });

  it('should start the gateway with the node flags of npm start', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];

    expect(cmd.join(' ')).toBe(scripts.start);
    expect(scripts.start).toMatch(/^node --max-semi-space-size=\d+ dist\/main\.js$/);
  });
});
