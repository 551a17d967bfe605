import { MIN_HS256_SECRET_BYTES } from './config.schema.js';

/*
 * The checks that look at several variables together, and at what is unsafe: each pushes every
 * problem it finds, so start-up names them all at once.
 */

export type RawEnv = Record<string, string>;

export type JwtKeySource =
  | { kind: 'secret'; algorithm: 'HS256'; secret: string }
  | { kind: 'public-key'; algorithm: AsymmetricAlgorithm; pem: string }
  | { kind: 'jwks'; algorithm: AsymmetricAlgorithm; url: string };

export type AsymmetricAlgorithm = 'RS256' | 'ES256';

/** A flag as the schema reads it, for checks that run whether or not the schema passed. */
const isOn = (value: string | undefined): boolean => value === 'true' || value === '1';
const isProduction = (env: RawEnv): boolean => env.NODE_ENV === 'production';

export function jwtKeySource(env: RawEnv, problems: string[]): JwtKeySource | undefined {
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

export function crossFieldProblems(env: RawEnv): string[] {
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
  const positions = env.KAFKA_POSITIONS_TOPIC ?? `${env.KAFKA_GROUP_PREFIX ?? 'kafka-sse-gateway'}.positions`;
  if (topics.includes(positions) || positions === env.KAFKA_DEAD_LETTER_TOPIC) {
    problems.push(
      "KAFKA_POSITIONS_TOPIC: must be a topic of the gateway's own, neither one of KAFKA_TOPICS nor the dead-letter topic",
    );
  }
  if (isOn(env.DEMO_ENABLED) && (env.CLIENT_BUNDLE === 'false' || env.CLIENT_BUNDLE === '0')) {
    problems.push(
      'CLIENT_BUNDLE: the demo page loads the client from /client.js; leave it on with DEMO_ENABLED',
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
export function unsafeSettings(env: RawEnv): string[] {
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
export function optInWarnings(env: RawEnv): string[] {
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

export function ownershipProblems(env: RawEnv): string[] {
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

function splitNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
