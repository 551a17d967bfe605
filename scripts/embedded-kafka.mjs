// @ts-check
/**
 * A real single-node Apache Kafka (KRaft) for tests, the demo and the benchmark.
 * The broker's jars come from Maven Central through Maven and stay in the local
 * Maven repository; only the resolved classpath is cached in `.cache/`.
 *
 *   node scripts/embedded-kafka.mjs   # start one, print its address, stop on Ctrl-C
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAFKA_VERSION = process.env.EMBEDDED_KAFKA_VERSION ?? '4.1.1';
const SLF4J_VERSION = '1.7.36';
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(projectRoot, '.cache', 'kafka');

/**
 * The commands of `names` that no folder of `path` holds as an executable.
 * @param {string[]} names
 * @param {string | undefined} path
 */
export function missingCommands(names, path = process.env.PATH) {
  const folders = (path ?? '').split(delimiter).filter(Boolean);
  return names.filter(
    (name) =>
      !folders.some((folder) => {
        try {
          accessSync(join(folder, name), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

/**
 * What to do when Java or Maven is missing, in one line: both remedies.
 * @param {string[]} missing
 */
export function missingToolsMessage(missing) {
  return (
    `The embedded Kafka needs Java 17+ and Maven on PATH; ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing. ` +
    'Install them (Debian: apt-get install openjdk-17-jre-headless maven), or set KAFKA_BROKERS to a Kafka you run yourself.'
  );
}

/** @param {string[]} names */
function requireCommands(names) {
  const missing = missingCommands(names);
  if (missing.length > 0) throw new Error(missingToolsMessage(missing));
}

/**
 * The classpath resolved before, when its jars are all still there.
 * @param {string} version
 */
function cachedClasspath(version) {
  const cached = join(cacheDir, `kafka-${version}.classpath`);
  if (!existsSync(cached)) return undefined;
  const classpath = readFileSync(cached, 'utf8').trim();
  return classpath.split(':').every((jar) => existsSync(jar)) ? classpath : undefined;
}

/** @param {string} version */
export function classpathFor(version = KAFKA_VERSION) {
  const cached = join(cacheDir, `kafka-${version}.classpath`);
  const known = cachedClasspath(version);
  if (known) return known;
  // Java too: naming only Maven now would send a person to install one, then fail on the other.
  requireCommands(['java', 'mvn']);
  mkdirSync(cacheDir, { recursive: true });
  const pomDir = join(cacheDir, `pom-${version}`);
  mkdirSync(pomDir, { recursive: true });
  writeFileSync(join(pomDir, 'pom.xml'), pomFor(version));
  const mvn = spawnSync(
    'mvn',
    ['-q', '-B', 'dependency:build-classpath', '-DincludeScope=runtime', `-Dmdep.outputFile=${cached}`],
    { cwd: pomDir, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (mvn.error) throw new Error(`Cannot run Maven to fetch Kafka ${version}: ${mvn.error.message}`);
  if (mvn.status !== 0) throw new Error(`Maven could not fetch Kafka ${version} (exit ${mvn.status})`);
  return readFileSync(cached, 'utf8').trim();
}

/** @param {string} version */
function pomFor(version) {
  const dependency = (/** @type {string} */ group, /** @type {string} */ artifact, /** @type {string} */ v) =>
    `<dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kafka-sse-gateway</groupId><artifactId>embedded-kafka</artifactId><version>${version}</version>
  <dependencies>
    ${dependency('org.apache.kafka', 'kafka_2.13', version)}
    ${dependency('org.slf4j', 'slf4j-simple', SLF4J_VERSION)}
  </dependencies>
</project>
`;
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** @param {number} port */
function answers(port) {
  return new Promise((resolveAnswer) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once('error', () => resolveAnswer(false));
  });
}

/**
 * A random cluster id, as Kafka's own Uuid.randomUuid makes them: 16 bytes in base64url, never
 * starting with `-`, which the storage tool's argument parser would take for an option (one
 * start in 64 failed so).
 */
export function clusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * @param {{ brokerPort: number, controllerPort: number, logDir: string }} o
 */
function serverProperties({ brokerPort, controllerPort, logDir }) {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${logDir}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
`;
}

export class EmbeddedKafka {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  #process;
  #exited = Promise.resolve();

  /**
   * @param {{ classpath: string, dir: string, ownsDir: boolean, brokerPort: number, propertiesFile: string, ownProcessGroup?: boolean }} setup
   */
  constructor(setup) {
    this.ownProcessGroup = setup.ownProcessGroup ?? false;
    this.classpath = setup.classpath;
    this.dir = setup.dir;
    this.ownsDir = setup.ownsDir;
    this.brokerPort = setup.brokerPort;
    this.propertiesFile = setup.propertiesFile;
  }

  /** The bootstrap address, e.g. `127.0.0.1:39017`. */
  get brokers() {
    return [`127.0.0.1:${this.brokerPort}`];
  }

  /**
   * Fetches the jars if needed, formats fresh storage and starts the broker.
   * `ownProcessGroup` keeps the terminal's Ctrl-C from reaching the broker: its owner stops it.
   * @param {{ dir?: string, version?: string, startTimeoutMs?: number, ownProcessGroup?: boolean }} [options]
   */
  static async start(options = {}) {
    const version = options.version ?? KAFKA_VERSION;
    requireCommands(cachedClasspath(version) ? ['java'] : ['java', 'mvn']);
    const classpath = classpathFor(version);
    const dir =
      options.dir ?? join(tmpdir(), `kafka-sse-gateway-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    const [brokerPort, controllerPort] = [await freePort(), await freePort()];
    const propertiesFile = join(dir, 'server.properties');
    writeFileSync(
      propertiesFile,
      serverProperties({ brokerPort, controllerPort, logDir: join(dir, 'logs') }),
    );
    const format = spawnSync(
      'java',
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propertiesFile],
      { encoding: 'utf8' },
    );
    if (format.status !== 0) {
      throw new Error(`Kafka storage format failed: ${format.stderr || format.stdout || format.error}`);
    }
    const kafka = new EmbeddedKafka({
      classpath,
      dir,
      ownsDir: !options.dir,
      brokerPort,
      propertiesFile,
      ownProcessGroup: options.ownProcessGroup,
    });
    await kafka.resume(options.startTimeoutMs);
    return kafka;
  }

  /** Starts the broker process on the existing storage and waits until it answers. */
  async resume(timeoutMs = 90_000) {
    if (this.#process) return;
    const log = createWriteStream(join(this.dir, 'kafka.log'), { flags: 'a' });
    const child = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        this.classpath,
        'kafka.Kafka',
        this.propertiesFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: this.ownProcessGroup },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.#process = child;
    this.#exited = new Promise((done) => child.once('exit', () => done(undefined)));
    let exitCode = /** @type {number | null | undefined} */ (undefined);
    child.once('exit', (code) => {
      exitCode = code;
      if (this.#process === child) this.#process = undefined;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await this.#ready())) {
      if (exitCode !== undefined)
        throw new Error(`Kafka exited with code ${exitCode}; see ${join(this.dir, 'kafka.log')}`);
      if (Date.now() > deadline) {
        await this.pause();
        throw new Error(`Kafka did not answer within ${timeoutMs} ms; see ${join(this.dir, 'kafka.log')}`);
      }
      await new Promise((wake) => setTimeout(wake, 200));
    }
  }

  async #ready() {
    if (!(await answers(this.brokerPort))) return false;
    const { Kafka, logLevel } = (await import('kafkajs')).default;
    const admin = new Kafka({
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Stops the broker process but keeps its storage, so `resume()` brings the same broker back.
   * @param {number} [timeoutMs] after which SIGTERM becomes SIGKILL
   * @param {NodeJS.Signals} [signal]
   */
  async pause(timeoutMs = 30_000, signal = /** @type {NodeJS.Signals} */ ('SIGTERM')) {
    const child = this.#process;
    if (!child) return;
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(killer);
    this.#process = undefined;
  }

  /**
   * Stops the broker and deletes storage it created; `now` skips its orderly shutdown, for storage
   * that is deleted anyway.
   * @param {{ now?: boolean }} [options]
   */
  async stop(options = {}) {
    await this.pause(30_000, options.now ? 'SIGKILL' : 'SIGTERM');
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

async function main() {
  const kafka = await EmbeddedKafka.start();
  console.log(`Kafka ${KAFKA_VERSION} is running at ${kafka.brokers.join(',')} (Ctrl-C stops it)`);
  const stop = () => void kafka.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
