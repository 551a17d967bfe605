import { ConfigModule, getConfigToken, registerAs } from '@nestjs/config';
import type { DynamicModule } from '@nestjs/common';
import { hostname } from 'node:os';
import { z } from 'zod';

export type JwtKeySource =
  | { kind: 'secret'; algorithm: 'HS256'; secret: string }
  | { kind: 'public-key'; algorithm: AsymmetricAlgorithm; pem: string }
  | { kind: 'jwks'; algorithm: AsymmetricAlgorithm; url: string };

export type AsymmetricAlgorithm = 'RS256' | 'ES256';

export interface GatewayConfig {
  kafka: {
    brokers: string[];
    topics: string[];
    clientId: string;
    groupPrefix: string;
    maxRecordBytes: number;
    /** A compressed batch that would inflate past this is skipped. */
    maxDecompressedBytes: number;
    deadLetterTopic: string | undefined;
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
  demo: { enabled: boolean };
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

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const BROKER_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^\s:,/[\]]+):(\d{1,5})$/;
const MIN_HS256_SECRET_BYTES = 32;
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const isBrokerAddress = (broker: string): boolean => {
  const port = Number(BROKER_ADDRESS.exec(broker)?.[2]);
  return port >= 1 && port <= 65535;
};
/** An origin exactly as browsers send it in the Origin header, so it can match. */
const isOrigin = (origin: string): boolean => {
  try {
    const url = new URL(origin);
    return /^https?:$/.test(url.protocol) && url.origin === origin && !origin.includes('*');
  } catch {
    return false;
  }
};
const list = (error?: string) =>
  z.string(error ? { error } : undefined).transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

export const configSchema = z.object({
  NODE_ENV: z.string().optional(),
  HOST: z.string().default('0.0.0.0'),
  PORT: integer(0, 65535).default(3000),
  MANAGEMENT_PORT: integer(0, 65535).optional(),
  MANAGEMENT_ON_PUBLIC_PORT: flag.default(false),
  KAFKA_BROKERS: list('is required: a comma-separated list of host:port').pipe(
    z
      .array(z.string().refine(isBrokerAddress, 'each broker must be host:port'))
      .min(1, 'must name at least one broker as host:port'),
  ),
  KAFKA_TOPICS: list()
    .default(['notifications'])
    .pipe(
      z
        .array(z.string().regex(TOPIC_NAME, 'topic names use only letters, digits, ".", "_" and "-"'))
        .min(1, 'must name at least one topic'),
    ),
  KAFKA_CLIENT_ID: z.string().default('kafka-sse-gateway'),
  KAFKA_GROUP_PREFIX: z
    .string()
    .regex(TOPIC_NAME, 'use only letters, digits, ".", "_" and "-"')
    .default('kafka-sse-gateway'),
  KAFKA_MAX_RECORD_BYTES: integer(64, 16 * 1024 * 1024).default(64 * 1024),
  KAFKA_MAX_DECOMPRESSED_BYTES: integer(64 * 1024, 1024 ** 3).default(32 * 1024 ** 2),
  KAFKA_METADATA_REFRESH_MS: integer(500, 600_000).default(5000),
  KAFKA_RECOVERY_TIMEOUT_MS: integer(1000, 3600_000).default(120_000),
  KAFKA_DEAD_LETTER_TOPIC: z
    .string()
    .regex(TOPIC_NAME, 'use only letters, digits, ".", "_" and "-"')
    .optional(),
  KAFKA_SSL: flag.default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  // Partition ownership (docs/scaling.md): off unless KAFKA_CONSUMPTION=partition-owner.
  KAFKA_CONSUMPTION: z.enum(['every-instance', 'partition-owner']).default('every-instance'),
  KAFKA_BROADCAST_TOPICS: list()
    .pipe(z.array(z.string().regex(TOPIC_NAME, 'topic names use only letters, digits, ".", "_" and "-"')))
    .optional(),
  KAFKA_OWNER_GROUP: z.string().regex(TOPIC_NAME, 'use only letters, digits, ".", "_" and "-"').optional(),
  GATEWAY_NODE_NAME: z
    .string()
    .regex(NODE_NAME, 'use 1-63 lower-case letters, digits and "-", starting with a letter or digit')
    .optional(),
  JWT_SECRET: z.string().optional(),
  JWT_PUBLIC_KEY: z.string().optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_ALGORITHM: z.enum(['HS256', 'RS256', 'ES256']).optional(),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  JWT_AUDIENCE_OPTIONAL: flag.default(false),
  JWT_TYPE: z
    .string()
    .regex(/^[\w.+/-]{1,64}$/, 'must be a media type such as at+jwt')
    .optional(),
  JWT_CLOCK_TOLERANCE_SECONDS: integer(0, 300).default(5),
  ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT: flag.default(false),
  AUTH_COOKIE_NAME: z
    .string()
    .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid cookie name')
    .default('__Host-access_token'),
  TICKET_SECRET: z
    .string()
    .min(MIN_HS256_SECRET_BYTES, `must be at least ${MIN_HS256_SECRET_BYTES} characters`)
    .optional(),
  TICKET_TTL_SECONDS: integer(5, 3600).default(30),
  SSE_HEARTBEAT_MS: integer(1000, 300_000).default(15_000),
  SSE_RETRY_MS: integer(100, 600_000).default(2000),
  SSE_MAX_LIFETIME_MS: integer(10_000, 24 * 3600_000).default(30 * 60_000),
  SHUTDOWN_DELAY_MS: integer(0, 600_000).default(5000),
  SHUTDOWN_TIMEOUT_MS: integer(1000, 600_000).default(10_000),
  REPLAY_WINDOW_MS: integer(0, 7 * 24 * 3600_000).default(15 * 60_000),
  REPLAY_MAX_BYTES: integer(0, 64 * 1024 ** 3).default(64 * 1024 ** 2),
  REPLAY_MAX_BYTES_PER_USER: integer(0, 64 * 1024 ** 3).default(1024 ** 2),
  REPLAY_MAX_BROADCAST_BYTES: integer(0, 64 * 1024 ** 3).default(16 * 1024 ** 2),
  STREAMS_PER_USER_MAX: integer(1, 10_000).default(10),
  STREAMS_MAX: integer(1, 10_000_000).default(20_000),
  STREAM_OPENS_PER_SECOND: integer(1, 1_000_000).default(1000),
  STREAM_OPENS_PER_USER_PER_MINUTE: integer(1, 1_000_000).default(60),
  CORS_ORIGINS: list()
    .pipe(
      z.array(
        z
          .string()
          .refine(isOrigin, 'each origin must be scheme://host[:port], exactly; a wildcard is never allowed'),
      ),
    )
    .optional(),
  PUBLISH_CLAIM: z.string().default('scope'),
  PUBLISH_VALUE: z.string().default('events:publish'),
  PUBLISH_RATE_PER_SECOND: integer(1, 1_000_000).default(100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  DEMO_ENABLED: flag.default(false),
});

type Env = z.infer<typeof configSchema>;

/** Names of the variables the gateway reads; docs/configuration.md lists the same. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

/**
 * Validates the environment once and returns the typed configuration.
 * @throws ConfigError naming every problem at once.
 */
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

type RawEnv = Record<string, string>;

/** A flag as the schema reads it, for checks that run whether or not the schema passed. */
const isOn = (value: string | undefined): boolean => value === 'true' || value === '1';
const isProduction = (env: RawEnv): boolean => env.NODE_ENV === 'production';

function jwtKeySource(env: RawEnv, problems: string[]): JwtKeySource | undefined {
  const {
    JWT_SECRET: secret,
    JWT_PUBLIC_KEY: publicKey,
    JWT_JWKS_URL: jwksUrl,
    JWT_ALGORITHM: declared,
  } = env;
  if ([secret, publicKey, jwksUrl].filter((source) => source !== undefined).length !== 1) {
    problems.push('JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens');
    return undefined;
  }
  if (secret !== undefined) {
    if (Buffer.byteLength(secret) < MIN_HS256_SECRET_BYTES) {
      problems.push(`JWT_SECRET: must be at least ${MIN_HS256_SECRET_BYTES} bytes for HS256`);
    }
    if (declared !== undefined && declared !== 'HS256') {
      problems.push('JWT_ALGORITHM: a JWT_SECRET verifies HS256 tokens only');
    }
    return { kind: 'secret', algorithm: 'HS256', secret };
  }
  const algorithm = declared ?? 'RS256';
  if (algorithm === 'HS256')
    problems.push('JWT_ALGORITHM: HS256 needs JWT_SECRET; a public key or JWKS verifies RS256 or ES256');
  // Any other unknown value is already reported by the schema.
  if (algorithm !== 'RS256' && algorithm !== 'ES256') return undefined;
  if (publicKey !== undefined) {
    const pem = publicKey.replace(/\\n/g, '\n');
    if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
      problems.push('JWT_PUBLIC_KEY: must be a PEM "PUBLIC KEY" (SPKI)');
    return { kind: 'public-key', algorithm, pem };
  }
  return { kind: 'jwks', algorithm, url: jwksUrl as string };
}

function crossFieldProblems(env: RawEnv): string[] {
  const problems: string[] = [];
  const sasl = [env.KAFKA_SASL_MECHANISM, env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD];
  if (sasl.some((value) => value !== undefined) && sasl.some((value) => value === undefined)) {
    problems.push('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: set all three or none');
  }
  // Judged on what is set, not on the key source, so these are reported even when that is invalid.
  const asymmetric =
    env.JWT_SECRET === undefined && (env.JWT_PUBLIC_KEY !== undefined || env.JWT_JWKS_URL !== undefined);
  if (asymmetric && env.TICKET_SECRET === undefined) {
    problems.push('TICKET_SECRET: required when tokens are verified with a public key or JWKS');
  }
  if (env.TICKET_SECRET !== undefined && env.TICKET_SECRET === env.JWT_SECRET) {
    problems.push('TICKET_SECRET: must differ from JWT_SECRET, or a ticket would pass for an access token');
  }
  const topics = (env.KAFKA_TOPICS ?? 'notifications').split(',').map((topic) => topic.trim());
  if (env.KAFKA_DEAD_LETTER_TOPIC !== undefined && topics.includes(env.KAFKA_DEAD_LETTER_TOPIC)) {
    problems.push(
      'KAFKA_DEAD_LETTER_TOPIC: must not be one of KAFKA_TOPICS, or invalid records would be copied back to the gateway forever',
    );
  }
  if (env.MANAGEMENT_PORT !== undefined) {
    if (isOn(env.MANAGEMENT_ON_PUBLIC_PORT))
      problems.push('MANAGEMENT_ON_PUBLIC_PORT: contradicts MANAGEMENT_PORT; set one of them');
    if (env.MANAGEMENT_PORT !== '0' && Number(env.MANAGEMENT_PORT) === Number(env.PORT ?? '3000'))
      problems.push('MANAGEMENT_PORT: must differ from PORT');
  }
  return problems;
}

function usesHttpKeySet(env: RawEnv): boolean {
  try {
    return env.JWT_JWKS_URL !== undefined && new URL(env.JWT_JWKS_URL).protocol === 'http:';
  } catch {
    return false; // Already reported by the schema.
  }
}

/** Judged on a complete SASL setting only: a partial or unknown one is reported already. */
const usesSaslInClearText = (env: RawEnv): boolean =>
  ['plain', 'scram-sha-256', 'scram-sha-512'].includes(env.KAFKA_SASL_MECHANISM ?? '') &&
  env.KAFKA_SASL_USERNAME !== undefined &&
  env.KAFKA_SASL_PASSWORD !== undefined &&
  !isOn(env.KAFKA_SSL);

/**
 * Settings that would leave a deployment open: each is refused unless a loudly named opt-in says
 * otherwise, and what is only for development is refused under NODE_ENV=production.
 */
function unsafeSettings(env: RawEnv): string[] {
  const problems: string[] = [];
  const insecureAllowed = isOn(env.ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT);
  const forDevelopment = 'set ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true for local development';
  if (env.JWT_AUDIENCE === undefined && !isOn(env.JWT_AUDIENCE_OPTIONAL)) {
    problems.push(
      'JWT_AUDIENCE: required, so that tokens issued for other clients cannot open streams; set JWT_AUDIENCE_OPTIONAL=true to accept any audience',
    );
  }
  if (usesHttpKeySet(env) && !insecureAllowed) {
    problems.push(
      `JWT_JWKS_URL: must be https, or the keys that verify tokens could be forged on the way; ${forDevelopment}`,
    );
  }
  if (usesSaslInClearText(env) && !insecureAllowed) {
    problems.push(
      `KAFKA_SSL: must be true with SASL, or the Kafka credentials and events cross the network in clear text; ${forDevelopment}`,
    );
  }
  if (!isProduction(env)) return problems;
  if (isOn(env.DEMO_ENABLED)) {
    problems.push('DEMO_ENABLED: refused under NODE_ENV=production: the demo signs in anyone as anyone');
  }
  if (insecureAllowed) {
    problems.push('ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT: refused under NODE_ENV=production');
  }
  if (env.MANAGEMENT_PORT === undefined && !isOn(env.MANAGEMENT_ON_PUBLIC_PORT)) {
    problems.push(
      'MANAGEMENT_PORT: required under NODE_ENV=production, so that metrics, probes and docs stay off the public port; set MANAGEMENT_ON_PUBLIC_PORT=true to serve them on PORT',
    );
  }
  return problems;
}

/** What the opt-ins in use give away, one line each, for the start-up log. */
function optInWarnings(env: RawEnv): string[] {
  const warnings: string[] = [];
  if (env.JWT_AUDIENCE === undefined && isOn(env.JWT_AUDIENCE_OPTIONAL)) {
    warnings.push(
      'JWT_AUDIENCE_OPTIONAL=true: any token this key verifies opens streams, whoever it was issued for',
    );
  }
  if (isOn(env.ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT)) {
    const uses = [
      ...(usesHttpKeySet(env) ? ['the JWKS over plain http'] : []),
      ...(usesSaslInClearText(env) ? ['SASL to Kafka without TLS'] : []),
    ];
    warnings.push(
      `ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true: ${uses.length > 0 ? uses.join(' and ') : 'nothing insecure in use yet'}; never in production`,
    );
  }
  if (isOn(env.MANAGEMENT_ON_PUBLIC_PORT)) {
    warnings.push(
      'MANAGEMENT_ON_PUBLIC_PORT=true: metrics, probes and docs are served, unauthenticated, on the public port',
    );
  }
  return warnings;
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
      deadLetterTopic: env.KAFKA_DEAD_LETTER_TOPIC,
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
    demo: { enabled: env.DEMO_ENABLED },
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

function ownershipProblems(env: RawEnv): string[] {
  const problems: string[] = [];
  const topics = (env.KAFKA_TOPICS ?? 'notifications').split(',').map((topic) => topic.trim());
  const broadcast = splitNames(env.KAFKA_BROADCAST_TOPICS);
  const unlisted = broadcast.filter((topic) => !topics.includes(topic));
  if (unlisted.length > 0) {
    problems.push(
      `KAFKA_BROADCAST_TOPICS: ${unlisted.join(', ')} must also be listed in KAFKA_TOPICS, which names every topic the gateway reads`,
    );
  }
  const keyed = topics.filter((topic) => topic !== '' && !broadcast.includes(topic));
  if (env.KAFKA_CONSUMPTION === 'partition-owner' && keyed.length === 0) {
    problems.push(
      'KAFKA_BROADCAST_TOPICS: with KAFKA_CONSUMPTION=partition-owner, at least one topic of KAFKA_TOPICS must be keyed by user id, not broadcast',
    );
  }
  return problems;
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

function splitNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
