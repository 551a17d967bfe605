import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, parseGatewayConfig } from '../src/config/gateway.config.js';
import { SHIPPED_NGINX_CONF, siteConfig } from './support/nginx.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';

interface Container {
  ports: Array<{ name: string; containerPort: number }>;
  env: Array<{ name: string; value?: string }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: {
      metadata: { labels: Record<string, string> };
      spec: { terminationGracePeriodSeconds?: number; containers: Container[] };
    };
    ports?: Array<{ targetPort: string | number }>;
    clusterIP?: string;
  };
}

const KUBERNETES = 'deploy/kubernetes';
const manifests = readdirSync(KUBERNETES).map((file) => join(KUBERNETES, file));
/**
 * The live heap of one open stream, the runtime's share included: `npm run soak` at 10,000 streams
 * holds 257.5 MiB after a full collection, with reconnects and traffic going on.
 */
const LIVE_HEAP_PER_STREAM = 26 * 1024;
/** Young generation (`--max-semi-space-size=32`: two of 32 MiB) and the runtime beside the heap. */
const OUTSIDE_OLD_SPACE_MIB = 64 + 128;

/** A Kubernetes memory quantity in MiB (the binary suffixes the manifests use). */
function mebibytes(quantity: string): number {
  const [, amount, unit] = /^(\d+)(Mi|Gi)$/.exec(quantity) ?? [];
  if (!amount) throw new Error(`not a quantity in Mi or Gi: ${quantity}`);
  return Number(amount) * (unit === 'Gi' ? 1024 : 1);
}

function documents(file: string): Manifest[] {
  const parsed = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const document of parsed)
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
  return parsed.map((document) => document.toJS() as Manifest);
}

/** Metric names a PromQL expression uses: the gateway's own families and Node's process metrics. */
function metricsIn(expression: string): string[] {
  return [...expression.matchAll(/\b((?:sse|kafka|gateway|process|nodejs)_[a-z0-9_]+)\b/g)].map(
    (match) => match[1]!,
  );
}

/** Every PromQL expression of the dashboard and the alert rules, with where it comes from. */
function expressions(): Array<[string, string]> {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/kafka-sse-gateway.json', 'utf8')) as {
    panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    templating: { list: Array<{ name: string; query: string }> };
  };
  const rules = parse(readFileSync('deploy/prometheus/alerts.yaml', 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return [
    ...dashboard.panels.flatMap((panel) =>
      panel.targets.map((target): [string, string] => [panel.title, target.expr]),
    ),
    ...dashboard.templating.list.map((variable): [string, string] => [`$${variable.name}`, variable.query]),
    ...rules.groups.flatMap((group) => group.rules.map((rule): [string, string] => [rule.alert, rule.expr])),
  ];
}

/** The families a gateway exposes on /metrics, and the series names a histogram adds. */
async function exported(gateway: TestGateway): Promise<Set<string>> {
  const text = await (await fetch(`${gateway.managementUrl}/metrics`)).text();
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('The deployment files in deploy/ (e2e)', () => {
  it.each(manifests)('should parse %s as YAML, every document a Kubernetes object', (file) => {
    for (const manifest of documents(file)) {
      expect(manifest.kind).toMatch(/^[A-Z]\w+$/);
      expect(manifest.metadata.name).toBeTruthy();
    }
  });

  describe.each(manifests)('%s', (file) => {
    const all = documents(file);
    const workload = all.find((manifest) => ['Deployment', 'StatefulSet'].includes(manifest.kind))!;
    const pod = workload.spec.template!;
    const container = pod.spec.containers[0]!;
    const env = new Map(container.env.map((variable) => [variable.name, variable.value]));
    const managementPort = container.ports.find((port) => port.name === 'management')!;
    const literal = Object.fromEntries(
      [...env].filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const config = () =>
      parseGatewayConfig({ ...literal, JWT_SECRET: 'a-secret-from-the-kubernetes-secret-object' });

    it('should set only variables the gateway (or Node) reads, and a configuration it accepts', () => {
      expect(
        container.env
          .map((variable) => variable.name)
          .filter((name) => name !== 'NODE_OPTIONS' && !CONFIG_VARIABLES.includes(name)),
      ).toEqual([]);
      expect(config().http.managementPort).toBe(managementPort.containerPort);
    });

    it('should probe liveness and readiness on the management port', () => {
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'management' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'management' });
      expect(container.startupProbe?.httpGet.port).toBe('management');
    });

    it('should give the pod longer to stop than the gateway takes to drain and close', () => {
      const { stream } = config();
      const drainAndClose = stream.shutdownDelayMs + stream.shutdownTimeoutMs;

      expect(pod.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(drainAndClose);
    });

    it('should request and bound its resources', () => {
      expect(container.resources?.requests).toEqual(
        expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }),
      );
      expect(container.resources?.limits?.memory).toBeDefined();
    });

    it('should bound the heap above what STREAMS_MAX streams and the replay window hold, below the memory limit', () => {
      const { stream, replay } = config();
      const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(env.get('NODE_OPTIONS') ?? '')?.[1]);
      const held = (stream.maxTotal * LIVE_HEAP_PER_STREAM + replay.maxBytes) / 2 ** 20;

      expect(heapMiB).toBeGreaterThanOrEqual(held * 1.3);
      expect(heapMiB + OUTSIDE_OLD_SPACE_MIB).toBeLessThanOrEqual(
        mebibytes(container.resources!.limits!.memory!),
      );
    });

    it('should have a PodDisruptionBudget and a Service for its pods, on the public port only', () => {
      const labels = pod.metadata.labels;
      const selects = (selector: Record<string, string> | undefined) =>
        Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
      const budget = all.find((manifest) => manifest.kind === 'PodDisruptionBudget');
      const services = all.filter((manifest) => manifest.kind === 'Service');

      expect(selects(budget?.spec.selector?.matchLabels)).toBe(true);
      expect(services.length).toBeGreaterThan(0);
      for (const service of services) {
        expect(selects(service.spec.selector as Record<string, string>)).toBe(true);
        expect(service.spec.ports!.map((port) => port.targetPort)).toEqual(['http']);
      }
    });
  });

  describe('the nginx configuration', () => {
    const shipped = readFileSync(SHIPPED_NGINX_CONF, 'utf8');
    const seconds = (directive: string) =>
      Number(new RegExp(`^\\s*${directive}\\s+(\\d+)s;`, 'm').exec(shipped)?.[1]);

    it('should keep idle streams open for longer than two heartbeats', () => {
      const { heartbeatMs } = parseGatewayConfig({
        KAFKA_BROKERS: 'kafka:9092',
        JWT_SECRET: 'x'.repeat(32),
        JWT_AUDIENCE: 'a',
      }).stream;

      for (const directive of ['proxy_read_timeout', 'proxy_send_timeout', 'send_timeout'])
        expect([directive, seconds(directive) * 1000 > 2 * heartbeatMs]).toEqual([directive, true]);
    });

    it('should not buffer or compress, and speak HTTP/2', () => {
      expect(shipped).toMatch(/^\s*proxy_buffering off;/m);
      expect(shipped).toMatch(/^\s*gzip off;/m);
      expect(shipped).toMatch(/^\s*listen 443 ssl http2;/m);
    });

    it('should change nothing but the lines marked EDIT for a site', () => {
      const site = siteConfig(shipped, {
        port: 8443,
        upstream: ['127.0.0.1:1'],
        nodes: { 'gw-a': '127.0.0.1:1' },
        certificate: '/c',
        key: '/k',
      });
      const kept = (text: string) => text.split('\n').filter((line) => !/#\s*EDIT\s*$/.test(line));

      expect(site.split('\n').filter((line) => kept(shipped).includes(line))).toEqual(kept(shipped));
    });
  });

  describe('the dashboard and the alert rules', () => {
    let everyInstance: TestGateway;
    let owners: TestGateway;

    beforeAll(async () => {
      everyInstance = await startTestGateway({ MANAGEMENT_PORT: '0' });
      // Partition-owner mode registers metrics of its own.
      owners = await startTestGateway({
        MANAGEMENT_PORT: '0',
        KAFKA_TOPICS: 'orders',
        KAFKA_CONSUMPTION: 'partition-owner',
        KAFKA_OWNER_GROUP: `deploy-e2e-${process.pid}.owners`,
        GATEWAY_NODE_NAME: 'deploy-e2e',
      });
    }, 120_000);

    afterAll(async () => {
      await everyInstance?.close();
      await owners?.close();
    });

    it('should use only metrics the gateway exports', async () => {
      const names = new Set([...(await exported(everyInstance)), ...(await exported(owners))]);
      const used = expressions().flatMap(([where, expression]) =>
        metricsIn(expression).map((name) => [where, name]),
      );

      expect(used.length).toBeGreaterThan(10);
      expect(used.filter(([, name]) => !names.has(name!))).toEqual([]);
    });
  });
});
