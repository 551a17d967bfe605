import { z } from 'zod';

/** Every variable the gateway reads, as zod validates it one by one (config.checks.ts: across them). */

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const BROKER_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[^\s:,/[\]]+):(\d{1,5})$/;
export const MIN_HS256_SECRET_BYTES = 32;
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
  KAFKA_MAX_BATCH_RECORDS: integer(1000, 4_000_000).optional(),
  KAFKA_METADATA_REFRESH_MS: integer(500, 600_000).default(5000),
  KAFKA_RECOVERY_TIMEOUT_MS: integer(1000, 3600_000).default(120_000),
  KAFKA_POSITIONS_TOPIC: z
    .string()
    .regex(TOPIC_NAME, 'use only letters, digits, ".", "_" and "-"')
    .optional(),
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
  // An hour at 1,000 events a second, with room to spare.
  RESUME_HORIZON_RECORDS: integer(0, 1_000_000_000).default(4_000_000),
  CATCH_UP_MAX_PARTITIONS: integer(1, 1024).default(8),
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
  CLIENT_BUNDLE: flag.default(true),
});

export type Env = z.infer<typeof configSchema>;

/** Names of the variables the gateway reads; docs/configuration.md lists the same. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

/**
 * Validates the environment once and returns the typed configuration.
 * @throws ConfigError naming every problem at once.
 */
