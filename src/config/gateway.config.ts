import { ConfigModule, getConfigToken, registerAs } from '@nestjs/config';
import type { DynamicModule } from '@nestjs/common';
import { hostname } from 'node:os';
import {
  crossFieldProblems,
  jwtKeySource,
  optInWarnings,
  ownershipProblems,
  unsafeSettings,
  type JwtKeySource,
} from './config.checks.js';
import { configSchema, type Env } from './config.schema.js';

export { CONFIG_VARIABLES, configSchema } from './config.schema.js';
export type { AsymmetricAlgorithm, JwtKeySource } from './config.checks.js';

export interface GatewayConfig {
  kafka: {
    brokers: string[];
    topics: string[];
    clientId: string;
    groupPrefix: string;
    maxRecordBytes: number;
    /** A compressed batch that would inflate past this is skipped. */
    maxDecompressedBytes: number;
    /** A batch declaring more records than this is skipped; one fetch of a partition decodes no more. */
    maxBatchRecords: number;
    deadLetterTopic: string | undefined;
    /** The gateway's own topic of checkpoints, which compact event ids name. */
    positionsTopic: string;
    /** How often partitions and log ends are looked up (new partitions, a log that changed). */
    metadataRefreshMs: number;
    /** How long the consumer may stay broken before the process exits for a replacement. */
    recoveryTimeoutMs: number;
    ssl: boolean;
    sasl:
      | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
      | undefined;
  };
  auth: {
    key: JwtKeySource;
    issuer: string | undefined;
    /** Undefined only when JWT_AUDIENCE_OPTIONAL says so. */
    audience: string | undefined;
    /** The `typ` header access tokens must carry, when set (e.g. `at+jwt`). */
    type: string | undefined;
    /** Leeway for `nbf` and `iat` from a clock that runs ahead; `exp` is honoured exactly. */
    clockToleranceSeconds: number;
    cookieName: string;
    ticketSecret: string | undefined;
    ticketTtlSeconds: number;
  };
  stream: {
    heartbeatMs: number;
    retryMs: number;
    maxLifetimeMs: number;
    /** After SIGTERM: how long the instance keeps listening, refusing new streams, before it closes. */
    shutdownDelayMs: number;
    shutdownTimeoutMs: number;
    maxPerUser: number;
    maxTotal: number;
    /** Streams an instance opens per second, on average (bursts of twice that). */
    opensPerSecond: number;
    /** Streams one user opens per minute, on average (bursts of a tenth of that, at least 5). */
    opensPerUserPerMinute: number;
  };
  replay: { windowMs: number; maxBytes: number; maxBytesPerUser: number; maxBytesPerBroadcastTopic: number };
  /** Resumes older than the replay store read Kafka: how far back, and how many partitions at once. */
  resume: { horizonRecords: number; maxScans: number };
  demo: { enabled: boolean };
  /** Whether GET /client.js serves the browser client. */
  clientBundle: { enabled: boolean };
  http: {
    host: string;
    port: number;
    /** Where metrics, probes and docs are served instead of `port`, when set. */
    managementPort: number | undefined;
    corsOrigins: string[];
  };
  publish: { claim: string; value: string; ratePerSecond: number };
  logging: { level: string; pretty: boolean };
  /** Set only with KAFKA_CONSUMPTION=partition-owner; every instance reads everything otherwise. */
  ownership?: OwnershipConfig;
  /** The unsafe settings this configuration opted into, each named; logged at start-up. */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The default KAFKA_MAX_BATCH_RECORDS is KAFKA_MAX_DECOMPRESSED_BYTES over this (262,144 records
 * at the default 32 MiB). kafkajs turns every record into objects of about 216 bytes of heap
 * whatever its size, so the records of a batch at the bound take about 1.7 times the byte bound;
 * and a batch that fills the byte bound with records of 128 bytes or more (an event with a user
 * id and a little data) is never refused for its count.
 */
const BYTES_PER_BATCH_RECORD = 128;

export function parseGatewayConfig(source: NodeJS.ProcessEnv): GatewayConfig {
  const env = Object.fromEntries(
    Object.entries(source).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== '',
    ),
  );
  const parsed = configSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const key = jwtKeySource(env, problems);
  problems.push(...crossFieldProblems(env), ...ownershipProblems(env), ...unsafeSettings(env));
  if (!parsed.success || !key || problems.length > 0) throw new ConfigError(problems);
  return toConfig(parsed.data, key, optInWarnings(env));
}

function toConfig(env: Env, key: JwtKeySource, warnings: string[]): GatewayConfig {
  const {
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  } = env;
  return {
    http: {
      host: env.HOST,
      port: env.PORT,
      managementPort: env.MANAGEMENT_PORT,
      corsOrigins: env.CORS_ORIGINS ?? [],
    },
    kafka: {
      brokers: env.KAFKA_BROKERS,
      topics: [...new Set(env.KAFKA_TOPICS)],
      clientId: env.KAFKA_CLIENT_ID,
      groupPrefix: env.KAFKA_GROUP_PREFIX,
      maxRecordBytes: env.KAFKA_MAX_RECORD_BYTES,
      maxDecompressedBytes: env.KAFKA_MAX_DECOMPRESSED_BYTES,
      maxBatchRecords:
        env.KAFKA_MAX_BATCH_RECORDS ?? Math.floor(env.KAFKA_MAX_DECOMPRESSED_BYTES / BYTES_PER_BATCH_RECORD),
      deadLetterTopic: env.KAFKA_DEAD_LETTER_TOPIC,
      positionsTopic: env.KAFKA_POSITIONS_TOPIC ?? `${env.KAFKA_GROUP_PREFIX}.positions`,
      metadataRefreshMs: env.KAFKA_METADATA_REFRESH_MS,
      recoveryTimeoutMs: env.KAFKA_RECOVERY_TIMEOUT_MS,
      ssl: env.KAFKA_SSL,
      sasl: mechanism && username && password ? { mechanism, username, password } : undefined,
    },
    auth: {
      key,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      type: env.JWT_TYPE,
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
      cookieName: env.AUTH_COOKIE_NAME,
      ticketSecret: env.TICKET_SECRET,
      ticketTtlSeconds: env.TICKET_TTL_SECONDS,
    },
    stream: {
      heartbeatMs: env.SSE_HEARTBEAT_MS,
      retryMs: env.SSE_RETRY_MS,
      maxLifetimeMs: env.SSE_MAX_LIFETIME_MS,
      shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      maxPerUser: env.STREAMS_PER_USER_MAX,
      maxTotal: env.STREAMS_MAX,
      opensPerSecond: env.STREAM_OPENS_PER_SECOND,
      opensPerUserPerMinute: env.STREAM_OPENS_PER_USER_PER_MINUTE,
    },
    replay: {
      windowMs: env.REPLAY_WINDOW_MS,
      maxBytes: env.REPLAY_MAX_BYTES,
      maxBytesPerUser: env.REPLAY_MAX_BYTES_PER_USER,
      maxBytesPerBroadcastTopic: env.REPLAY_MAX_BROADCAST_BYTES,
    },
    resume: { horizonRecords: env.RESUME_HORIZON_RECORDS, maxScans: env.CATCH_UP_MAX_PARTITIONS },
    demo: { enabled: env.DEMO_ENABLED },
    clientBundle: { enabled: env.CLIENT_BUNDLE },
    publish: {
      claim: env.PUBLISH_CLAIM,
      value: env.PUBLISH_VALUE,
      ratePerSecond: env.PUBLISH_RATE_PER_SECOND,
    },
    logging: { level: env.LOG_LEVEL, pretty: env.LOG_FORMAT === 'pretty' },
    ownership: ownershipConfig(env),
    warnings,
  };
}

/** The token of the typed configuration: `@Inject(GATEWAY_CONFIG) config: GatewayConfig`. */

export const GATEWAY_CONFIG = getConfigToken('gateway');

/**
 * The configuration as a global provider of @nestjs/config. It is parsed once, by main.ts from
 * the environment or by a test from its own values, and handed in: nothing reads the environment
 * while modules compile.
 */
export function gatewayConfigModule(config: GatewayConfig): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    load: [registerAs('gateway', () => config)],
  });
}

// ---- partition ownership (KAFKA_CONSUMPTION=partition-owner, docs/scaling.md) -----------------

export interface OwnershipConfig {
  /** This instance's name in `?node=` and in the owner group's metadata; unique in the group. */
  node: string;
  /** The consumer group every instance shares. */
  group: string;
  /** Topics keyed by user id: each partition is read by its owner only. */
  keyedTopics: string[];
  /** Topics every instance reads whole; a subset of KAFKA_TOPICS. */
  broadcastTopics: string[];
}

function ownershipConfig(env: Env): OwnershipConfig | undefined {
  if (env.KAFKA_CONSUMPTION !== 'partition-owner') return undefined;
  const broadcastTopics = [...new Set(env.KAFKA_BROADCAST_TOPICS ?? [])];
  return {
    node: env.GATEWAY_NODE_NAME ?? nodeNameOf(hostname()),
    group: env.KAFKA_OWNER_GROUP ?? `${env.KAFKA_GROUP_PREFIX}.owners`,
    keyedTopics: [...new Set(env.KAFKA_TOPICS)].filter((topic) => !broadcastTopics.includes(topic)),
    broadcastTopics,
  };
}

/** A host name as a node name: lower case, other characters as "-". */
function nodeNameOf(host: string): string {
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63);
  return name === '' ? 'gateway' : name;
}
