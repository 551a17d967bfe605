import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The core client's budget, minified and gzipped (the React binding is apart). */
const BUDGET_BYTES = 7 * 1024;
const CLIENT = resolve('client');
const BUNDLE = join(CLIENT, 'dist/browser/kafka-sse-client.js');
const TSC = resolve('node_modules/.bin/tsc');

/** What a web developer's app does with the packed client: install it, import it, type-check it. */
const APP_SOURCE = `
import { connect, StreamError, type GatewayEvent, type StatusEvent } from '@kafka-sse-gateway/client';
import { connect as connectFromBundle } from '@kafka-sse-gateway/client/browser';
import { useGatewayEvents } from '@kafka-sse-gateway/client/react';

type Events = {
  'order.created': { orderId: string; total: number };
};

const client = connect<Events>({
  url: 'https://gateway.example/events',
  topics: ['orders'],
  credentials: 'include',
  getToken: async ({ refresh }) => (refresh ? null : { token: 'a.b.c', expiresAt: Date.now() + 60_000 }),
  shareKey: 'user-1',
  maxRetryMs: 10_000,
});
client.on('order.created', (order, event) => console.log(order.total.toFixed(2), event.offset));
// @ts-expect-error: not one of the app's event types
client.on('order.deleted', () => undefined);
client.onAny((event: GatewayEvent) => console.log(event.topic, event.partition));
client.onReset((reset) => console.log(reset.reason));
client.onError((error: StreamError) => console.log(error.code, error.status));
client.onStatus((status: StatusEvent) => {
  if (status.status === 'signed-out' || status.status === 'closed') client.close();
});
console.log(client.lastEventId, connectFromBundle === connect);

export function useOrders(): string {
  const { status, client: current } = useGatewayEvents<Events>({
    topics: ['orders'],
    onEvent: (event) => console.log(event.id),
    enabled: true,
  });
  current?.on('order.created', (order) => console.log(order.orderId));
  return status.status;
}
`;

describe('The browser client as a package (e2e)', () => {
  let work: string;
  let packed: { filename: string; files: Array<{ path: string }> };

  beforeAll(() => {
    if (!existsSync(BUNDLE))
      throw new Error(`${BUNDLE} is missing: npm test builds it first (npm run build)`);
    work = mkdtempSync(join(tmpdir(), 'client-package-'));
    // Built already (npm run build); packing must not build again under the suite's feet.
    const json = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: CLIENT,
      encoding: 'utf8',
    });
    packed = (JSON.parse(json) as Array<typeof packed>)[0]!;
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('should pack the modules with types and maps, the sources the maps name, LICENSE and README, no tests', () => {
    const files = packed.files.map((file) => file.path).sort();

    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/react.js',
        'dist/react.d.ts',
        'dist/browser/kafka-sse-client.js',
        'dist/browser/kafka-sse-client.js.map',
        'src/event-client.ts',
      ]),
    );
    expect(files.filter((file) => /\.spec\.ts$|testing\//.test(file))).toEqual([]);
    for (const map of files.filter((file) => file.endsWith('.js.map'))) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(CLIENT, map), 'utf8')) as {
        sources: string[];
        sourcesContent?: string[];
      };
      // Each map's sources are shipped, or carried inside it.
      const shipped = sources.map((source) => join(map, '..', source)).every((path) => files.includes(path));
      expect([map, shipped || sourcesContent?.length === sources.length]).toEqual([map, true]);
    }
  });

  it('should give every entry its types and keep side effects out', () => {
    const manifest = JSON.parse(readFileSync(join(CLIENT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
      sideEffects: boolean;
      publishConfig: object;
      repository: object;
      license: string;
    };

    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (entry === './package.json') continue;
      expect([
        entry,
        typeof target === 'object' && packed.files.some((f) => f.path === target.types.slice(2)),
      ]).toEqual([entry, true]);
    }
    expect(manifest).toMatchObject({ sideEffects: false, license: 'MIT' });
    expect(manifest.publishConfig).toBeDefined();
    expect(manifest.repository).toBeDefined();
  });

  it(`should keep the core client within ${BUDGET_BYTES} bytes minified and gzipped`, () => {
    const script = readFileSync(BUNDLE);

    expect(script.toString()).not.toMatch(/^\s+\S/m); // minified
    expect(gzipSync(script, { level: 9 }).length).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('should have a README with no link that breaks once packed', () => {
    const readme = readFileSync(join(CLIENT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target!);

    expect(links.filter((target) => !/^(https:\/\/|#)/.test(target))).toEqual([]);
  });

  it('should install offline into an empty app, import under Node and type-check under tsc --strict', () => {
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync(
      'npm',
      [
        'install',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--cache',
        join(work, 'empty-cache'),
        join(work, packed.filename),
      ],
      { cwd: app, encoding: 'utf8' },
    );
    // React is an optional peer: the app brings its own (here, the suite's).
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
    for (const name of ['react', '@types/react', 'csstype'])
      symlinkSync(resolve('node_modules', name), join(app, 'node_modules', name));
    writeFileSync(join(app, 'app.ts'), APP_SOURCE);

    const imported = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const core = await import('@kafka-sse-gateway/client'); const react = await import('@kafka-sse-gateway/client/react'); console.log(typeof core.connect, typeof react.useGatewayEvents)",
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(imported.trim()).toBe('function function');
    for (const resolution of [
      { module: 'esnext', moduleResolution: 'bundler' },
      { module: 'nodenext', moduleResolution: 'nodenext' },
    ]) {
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            ...resolution,
            target: 'es2022',
            lib: ['es2022', 'dom'],
            strict: true,
            noEmit: true,
            types: [],
          },
          files: ['app.ts'],
        }),
      );
      const errors = spawnSync(TSC, ['-p', app], { encoding: 'utf8' });
      expect([resolution.moduleResolution, errors.status, errors.stdout]).toEqual([
        resolution.moduleResolution,
        0,
        '',
      ]);
    }
  });
});
