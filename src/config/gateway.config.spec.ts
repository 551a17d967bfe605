import { CONFIG_VARIABLES, ConfigError, parseGatewayConfig, type GatewayConfig } from './gateway.config.js';

const SECRET = 'a-jwt-secret-that-is-32-bytes-ok';
const TICKET_SECRET = 'a-ticket-secret-of-32-characters';
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';
const AUDIENCE = { JWT_AUDIENCE: 'gateway' };
const BASE = { KAFKA_BROKERS: 'localhost:9092', JWT_SECRET: SECRET, ...AUDIENCE };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    parseGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseGatewayConfig', () => {
  describe('defaults', () => {
    it('should fill every optional setting with its default', () => {
      const sut = parseGatewayConfig(BASE);

      expect(sut).toEqual<GatewayConfig>({
        http: { host: '0.0.0.0', port: 3000, managementPort: undefined, corsOrigins: [] },
        kafka: {
          brokers: ['localhost:9092'],
          topics: ['notifications'],
          clientId: 'kafka-sse-gateway',
          groupPrefix: 'kafka-sse-gateway',
          maxRecordBytes: 64 * 1024,
          maxDecompressedBytes: 32 * 1024 * 1024,
          maxBatchRecords: 262_144,
          deadLetterTopic: undefined,
          positionsTopic: 'kafka-sse-gateway.positions',
          metadataRefreshMs: 5000,
          recoveryTimeoutMs: 120_000,
          ssl: false,
          sasl: undefined,
        },
        auth: {
          key: { kind: 'secret', algorithm: 'HS256', secret: SECRET },
          issuer: undefined,
          audience: 'gateway',
          type: undefined,
          clockToleranceSeconds: 5,
          cookieName: '__Host-access_token',
          ticketSecret: undefined,
          ticketTtlSeconds: 30,
        },
        stream: {
          heartbeatMs: 15_000,
          retryMs: 2000,
          maxLifetimeMs: 30 * 60_000,
          shutdownDelayMs: 5000,
          shutdownTimeoutMs: 10_000,
          maxPerUser: 10,
          maxTotal: 20_000,
          opensPerSecond: 1000,
          opensPerUserPerMinute: 60,
        },
        replay: {
          windowMs: 15 * 60_000,
          maxBytes: 64 * 1024 * 1024,
          maxBytesPerUser: 1024 * 1024,
          maxBytesPerBroadcastTopic: 16 * 1024 * 1024,
        },
        resume: { horizonRecords: 4_000_000, maxScans: 8 },
        demo: { enabled: false },
        clientBundle: { enabled: true },
        publish: { claim: 'scope', value: 'events:publish', ratePerSecond: 100 },
        logging: { level: 'info', pretty: false },
        warnings: [],
      });
    });

    it('should read every setting when given', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        HOST: '127.0.0.1',
        PORT: '8080',
        MANAGEMENT_PORT: '9464',
        KAFKA_TOPICS: 'orders, chat',
        KAFKA_CLIENT_ID: 'gw-1',
        KAFKA_GROUP_PREFIX: 'gw.prod',
        KAFKA_MAX_RECORD_BYTES: '1024',
        KAFKA_MAX_DECOMPRESSED_BYTES: '1048576',
        KAFKA_METADATA_REFRESH_MS: '1000',
        KAFKA_RECOVERY_TIMEOUT_MS: '30000',
        KAFKA_SSL: '1',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'user',
        KAFKA_SASL_PASSWORD: 'pass',
        JWT_ALGORITHM: 'HS256',
        JWT_ISSUER: 'https://issuer.test',
        JWT_AUDIENCE: 'gateway',
        JWT_TYPE: 'at+jwt',
        JWT_CLOCK_TOLERANCE_SECONDS: '30',
        AUTH_COOKIE_NAME: 'session',
        TICKET_SECRET,
        TICKET_TTL_SECONDS: '60',
        SSE_HEARTBEAT_MS: '5000',
        SSE_RETRY_MS: '500',
        SSE_MAX_LIFETIME_MS: '60000',
        SHUTDOWN_DELAY_MS: '0',
        SHUTDOWN_TIMEOUT_MS: '2000',
        REPLAY_WINDOW_MS: '0',
        REPLAY_MAX_BYTES: '1048576',
        REPLAY_MAX_BYTES_PER_USER: '65536',
        REPLAY_MAX_BROADCAST_BYTES: '131072',
        STREAM_OPENS_PER_SECOND: '50',
        STREAM_OPENS_PER_USER_PER_MINUTE: '12',
        DEMO_ENABLED: 'true',
        KAFKA_DEAD_LETTER_TOPIC: 'gateway.invalid',
        STREAMS_PER_USER_MAX: '3',
        STREAMS_MAX: '100',
        CORS_ORIGINS: 'https://app.example, http://localhost:5173',
        PUBLISH_CLAIM: 'roles',
        PUBLISH_VALUE: 'publisher',
        PUBLISH_RATE_PER_SECOND: '7',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'pretty',
      });

      expect(sut).toEqual<GatewayConfig>({
        http: {
          host: '127.0.0.1',
          port: 8080,
          managementPort: 9464,
          corsOrigins: ['https://app.example', 'http://localhost:5173'],
        },
        kafka: {
          brokers: ['localhost:9092'],
          topics: ['orders', 'chat'],
          clientId: 'gw-1',
          groupPrefix: 'gw.prod',
          maxRecordBytes: 1024,
          maxDecompressedBytes: 1024 * 1024,
          maxBatchRecords: 8192,
          deadLetterTopic: 'gateway.invalid',
          positionsTopic: 'gw.prod.positions',
          metadataRefreshMs: 1000,
          recoveryTimeoutMs: 30_000,
          ssl: true,
          sasl: { mechanism: 'scram-sha-512', username: 'user', password: 'pass' },
        },
        auth: {
          key: { kind: 'secret', algorithm: 'HS256', secret: SECRET },
          issuer: 'https://issuer.test',
          audience: 'gateway',
          type: 'at+jwt',
          clockToleranceSeconds: 30,
          cookieName: 'session',
          ticketSecret: TICKET_SECRET,
          ticketTtlSeconds: 60,
        },
        stream: {
          heartbeatMs: 5000,
          retryMs: 500,
          maxLifetimeMs: 60_000,
          shutdownDelayMs: 0,
          shutdownTimeoutMs: 2000,
          maxPerUser: 3,
          maxTotal: 100,
          opensPerSecond: 50,
          opensPerUserPerMinute: 12,
        },
        replay: {
          windowMs: 0,
          maxBytes: 1024 * 1024,
          maxBytesPerUser: 65536,
          maxBytesPerBroadcastTopic: 131072,
        },
        resume: { horizonRecords: 4_000_000, maxScans: 8 },
        demo: { enabled: true },
        clientBundle: { enabled: true },
        publish: { claim: 'roles', value: 'publisher', ratePerSecond: 7 },
        logging: { level: 'debug', pretty: true },
        warnings: [],
      });
    });

    it('should treat empty and blank values as unset', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        HOST: '',
        PORT: '  ',
        KAFKA_TOPICS: '',
        JWT_PUBLIC_KEY: '',
        JWT_JWKS_URL: ' ',
        JWT_ALGORITHM: '',
        KAFKA_SASL_USERNAME: '',
        TICKET_SECRET: '',
        DEMO_ENABLED: '',
      });

      expect(sut.http).toEqual({ host: '0.0.0.0', port: 3000, managementPort: undefined, corsOrigins: [] });
      expect(sut.kafka.topics).toEqual(['notifications']);
      expect(sut.kafka.sasl).toBeUndefined();
      expect(sut.auth.key).toEqual({ kind: 'secret', algorithm: 'HS256', secret: SECRET });
      expect(sut.auth.ticketSecret).toBeUndefined();
      expect(sut.demo.enabled).toBe(false);
    });

    it('should ignore variables it does not read', () => {
      expect(() => parseGatewayConfig({ ...BASE, PATH: '/usr/bin', NODE_ENV: 'test' })).not.toThrow();
    });
  });

  describe('KAFKA_BROKERS', () => {
    it('should be required', () => {
      expect(problemsOf({ ...AUDIENCE, JWT_SECRET: SECRET })).toEqual([
        'KAFKA_BROKERS: is required: a comma-separated list of host:port',
      ]);
    });

    it('should be required even when set to an empty string', () => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: '', JWT_SECRET: SECRET })).toEqual([
        'KAFKA_BROKERS: is required: a comma-separated list of host:port',
      ]);
    });

    it('should name at least one broker', () => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: ' , ', JWT_SECRET: SECRET })).toEqual([
        'KAFKA_BROKERS: must name at least one broker as host:port',
      ]);
    });

    it.each([
      'localhost',
      'a:b',
      'http://x:1',
      'host:',
      ':9092',
      'host:123456',
      'host name:9092',
      '[::1]',
      '::1:9092',
    ])('should reject the malformed broker %p', (broker) => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: broker, JWT_SECRET: SECRET })).toEqual([
        'KAFKA_BROKERS.0: each broker must be host:port',
      ]);
    });

    it('should name each malformed broker by its position', () => {
      expect(
        problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'ok:1,localhost,ok:2,a:b', JWT_SECRET: SECRET }),
      ).toEqual([
        'KAFKA_BROKERS.1: each broker must be host:port',
        'KAFKA_BROKERS.3: each broker must be host:port',
      ]);
    });

    it('should accept host names, IPv4 and bracketed IPv6 addresses, trimming and skipping empty items', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        KAFKA_BROKERS: ' kafka-1.internal:9092 ,, 10.0.0.7:19092, [::1]:9092 ,',
      });

      expect(sut.kafka.brokers).toEqual(['kafka-1.internal:9092', '10.0.0.7:19092', '[::1]:9092']);
    });
  });

  describe('KAFKA_TOPICS', () => {
    it('should split, trim and deduplicate topic names', () => {
      const sut = parseGatewayConfig({ ...BASE, KAFKA_TOPICS: ' orders,chat , orders,,a.b_c-1' });

      expect(sut.kafka.topics).toEqual(['orders', 'chat', 'a.b_c-1']);
    });

    it.each(['bad topic', 'a/b', 'ünïcode', 'x'.repeat(250), 'a:b'])(
      'should reject the invalid topic name %p',
      (topic) => {
        expect(problemsOf({ ...BASE, KAFKA_TOPICS: `ok,${topic}` })).toEqual([
          'KAFKA_TOPICS.1: topic names use only letters, digits, ".", "_" and "-"',
        ]);
      },
    );

    it('should accept a topic name of 249 characters', () => {
      const topic = 't'.repeat(249);

      expect(parseGatewayConfig({ ...BASE, KAFKA_TOPICS: topic }).kafka.topics).toEqual([topic]);
    });

    it('should reject a list with no topic in it', () => {
      expect(problemsOf({ ...BASE, KAFKA_TOPICS: ' , ,' })).toEqual([
        'KAFKA_TOPICS: must name at least one topic',
      ]);
    });
  });

  describe('numbers and flags', () => {
    it.each([
      ['PORT', '65536', 'PORT: Too big: expected number to be <=65535'],
      ['PORT', '-1', 'PORT: Too small: expected number to be >=0'],
      ['TICKET_TTL_SECONDS', '4', 'TICKET_TTL_SECONDS: Too small: expected number to be >=5'],
      ['TICKET_TTL_SECONDS', '3601', 'TICKET_TTL_SECONDS: Too big: expected number to be <=3600'],
      ['KAFKA_MAX_RECORD_BYTES', '63', 'KAFKA_MAX_RECORD_BYTES: Too small: expected number to be >=64'],
      ['SSE_MAX_LIFETIME_MS', '9999', 'SSE_MAX_LIFETIME_MS: Too small: expected number to be >=10000'],
      ['REPLAY_WINDOW_MS', '-1', 'REPLAY_WINDOW_MS: Too small: expected number to be >=0'],
    ])('should reject %s=%p', (name, value, problem) => {
      expect(problemsOf({ ...BASE, [name]: value })).toEqual([problem]);
    });

    it.each([
      ['PORT', 'abc'],
      ['PORT', '80.5'],
      ['SSE_HEARTBEAT_MS', 'soon'],
    ])('should reject the non-integer %s=%p', (name, value) => {
      const problems = problemsOf({ ...BASE, [name]: value });

      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    });

    it.each([
      ['true', true],
      ['1', true],
      ['false', false],
      ['0', false],
    ])('should read KAFKA_SSL=%p as %p', (value, expected) => {
      expect(parseGatewayConfig({ ...BASE, KAFKA_SSL: value }).kafka.ssl).toBe(expected);
    });

    it('should reject a flag that is not true, false, 1 or 0', () => {
      expect(problemsOf({ ...BASE, KAFKA_SSL: 'yes' })).toEqual([
        'KAFKA_SSL: Invalid option: expected one of "0"|"1"|"true"|"false"',
      ]);
    });

    it('should reject an invalid cookie name', () => {
      expect(problemsOf({ ...BASE, AUTH_COOKIE_NAME: 'my cookie' })).toEqual([
        'AUTH_COOKIE_NAME: must be a valid cookie name',
      ]);
    });

    it('should reject an invalid consumer group prefix', () => {
      expect(problemsOf({ ...BASE, KAFKA_GROUP_PREFIX: 'group/prefix' })).toEqual([
        'KAFKA_GROUP_PREFIX: use only letters, digits, ".", "_" and "-"',
      ]);
    });
  });

  describe('JWT key source', () => {
    it('should require one of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL', () => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1' })).toEqual([
        'JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
      ]);
    });

    it.each([
      { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: PEM },
      { JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://idp.test/jwks' },
      { JWT_PUBLIC_KEY: PEM, JWT_JWKS_URL: 'https://idp.test/jwks' },
      { JWT_SECRET: SECRET, JWT_PUBLIC_KEY: PEM, JWT_JWKS_URL: 'https://idp.test/jwks' },
    ])('should reject more than one key source: %p', (sources) => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', TICKET_SECRET, ...sources })).toEqual([
        'JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
      ]);
    });

    it('should reject an HS256 secret shorter than 32 bytes', () => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', JWT_SECRET: 's'.repeat(31) })).toEqual([
        'JWT_SECRET: must be at least 32 bytes for HS256',
      ]);
    });

    it('should measure the secret in UTF-8 bytes, not characters', () => {
      const sixteenTwoByteCharacters = 'é'.repeat(16);

      expect(
        parseGatewayConfig({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', JWT_SECRET: sixteenTwoByteCharacters }).auth
          .key,
      ).toEqual({
        kind: 'secret',
        algorithm: 'HS256',
        secret: sixteenTwoByteCharacters,
      });
    });

    it.each(['RS256', 'ES256'])('should reject JWT_ALGORITHM=%s with a JWT_SECRET', (algorithm) => {
      expect(problemsOf({ ...BASE, JWT_ALGORITHM: algorithm })).toEqual([
        'JWT_ALGORITHM: a JWT_SECRET verifies HS256 tokens only',
      ]);
    });

    it('should reject an unknown JWT_ALGORITHM', () => {
      expect(problemsOf({ ...BASE, JWT_ALGORITHM: 'PS256' })).toContain(
        'JWT_ALGORITHM: Invalid option: expected one of "HS256"|"RS256"|"ES256"',
      );
    });

    it('should default a public key to RS256 and turn escaped "\\n" into newlines', () => {
      const escaped = PEM.replace(/\n/g, '\\n');

      const sut = parseGatewayConfig({
        ...AUDIENCE,
        KAFKA_BROKERS: 'k:1',
        JWT_PUBLIC_KEY: escaped,
        TICKET_SECRET,
      });

      expect(sut.auth.key).toEqual({ kind: 'public-key', algorithm: 'RS256', pem: PEM });
      expect(sut.auth.ticketSecret).toBe(TICKET_SECRET);
    });

    it('should take ES256 for a public key when declared', () => {
      const sut = parseGatewayConfig({
        ...AUDIENCE,
        KAFKA_BROKERS: 'k:1',
        JWT_PUBLIC_KEY: PEM,
        JWT_ALGORITHM: 'ES256',
        TICKET_SECRET,
      });

      expect(sut.auth.key).toEqual({ kind: 'public-key', algorithm: 'ES256', pem: PEM });
    });

    it('should reject a public key that is not an SPKI PEM', () => {
      expect(
        problemsOf({
          ...AUDIENCE,
          KAFKA_BROKERS: 'k:1',
          JWT_PUBLIC_KEY: '-----BEGIN RSA PUBLIC KEY-----\nabc',
          TICKET_SECRET,
        }),
      ).toEqual(['JWT_PUBLIC_KEY: must be a PEM "PUBLIC KEY" (SPKI)']);
    });

    it('should reject HS256 with a public key', () => {
      expect(
        problemsOf({
          ...AUDIENCE,
          KAFKA_BROKERS: 'k:1',
          JWT_PUBLIC_KEY: PEM,
          JWT_ALGORITHM: 'HS256',
          TICKET_SECRET,
        }),
      ).toEqual(['JWT_ALGORITHM: HS256 needs JWT_SECRET; a public key or JWKS verifies RS256 or ES256']);
    });

    it('should reject HS256 with a JWKS URL', () => {
      expect(
        problemsOf({
          ...AUDIENCE,
          KAFKA_BROKERS: 'k:1',
          JWT_JWKS_URL: 'https://idp.test/jwks',
          JWT_ALGORITHM: 'HS256',
          TICKET_SECRET,
        }),
      ).toEqual(['JWT_ALGORITHM: HS256 needs JWT_SECRET; a public key or JWKS verifies RS256 or ES256']);
    });

    it('should read a JWKS URL', () => {
      const sut = parseGatewayConfig({
        ...AUDIENCE,
        KAFKA_BROKERS: 'k:1',
        JWT_JWKS_URL: 'https://idp.test/.well-known/jwks.json',
        TICKET_SECRET,
      });

      expect(sut.auth.key).toEqual({
        kind: 'jwks',
        algorithm: 'RS256',
        url: 'https://idp.test/.well-known/jwks.json',
      });
    });

    it.each(['ftp://idp.test/jwks', 'not a url'])('should reject the JWKS URL %p', (url) => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', JWT_JWKS_URL: url, TICKET_SECRET })).toEqual([
        'JWT_JWKS_URL: Invalid URL',
      ]);
    });

    it.each([
      ['JWT_PUBLIC_KEY', PEM],
      ['JWT_JWKS_URL', 'https://idp.test/jwks'],
    ])('should require TICKET_SECRET with %s', (name, value) => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', [name]: value })).toEqual([
        'TICKET_SECRET: required when tokens are verified with a public key or JWKS',
      ]);
    });

    it('should reject a TICKET_SECRET shorter than 32 characters', () => {
      expect(problemsOf({ ...BASE, TICKET_SECRET: 't'.repeat(31) })).toEqual([
        'TICKET_SECRET: must be at least 32 characters',
      ]);
    });

    it('should allow DEMO_ENABLED with a public key: the demo signs with a key of its own', () => {
      expect(
        parseGatewayConfig({
          ...AUDIENCE,
          KAFKA_BROKERS: 'k:1',
          JWT_PUBLIC_KEY: PEM,
          TICKET_SECRET,
          DEMO_ENABLED: 'true',
        }).demo,
      ).toEqual({ enabled: true });
    });
  });

  describe('KAFKA_DEAD_LETTER_TOPIC', () => {
    it('should refuse a consumed topic, which would copy invalid records back to the gateway forever', () => {
      expect(problemsOf({ ...BASE, KAFKA_TOPICS: 'orders, chat', KAFKA_DEAD_LETTER_TOPIC: 'chat' })).toEqual([
        'KAFKA_DEAD_LETTER_TOPIC: must not be one of KAFKA_TOPICS, or invalid records would be copied back to the gateway forever',
      ]);
    });

    it('should refuse the default topic when KAFKA_TOPICS is left out', () => {
      expect(problemsOf({ ...BASE, KAFKA_DEAD_LETTER_TOPIC: 'notifications' })).toHaveLength(1);
    });
  });

  describe('SASL', () => {
    it.each([
      { KAFKA_SASL_MECHANISM: 'plain' },
      { KAFKA_SASL_USERNAME: 'user' },
      { KAFKA_SASL_PASSWORD: 'pass' },
      { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'user' },
      { KAFKA_SASL_USERNAME: 'user', KAFKA_SASL_PASSWORD: 'pass' },
    ])('should reject a partial SASL setting %p', (sasl) => {
      expect(problemsOf({ ...BASE, ...sasl })).toEqual([
        'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: set all three or none',
      ]);
    });

    it('should reject an unknown SASL mechanism', () => {
      expect(
        problemsOf({
          ...BASE,
          KAFKA_SASL_MECHANISM: 'gssapi',
          KAFKA_SASL_USERNAME: 'user',
          KAFKA_SASL_PASSWORD: 'pass',
        }),
      ).toEqual([
        'KAFKA_SASL_MECHANISM: Invalid option: expected one of "plain"|"scram-sha-256"|"scram-sha-512"',
      ]);
    });

    it('should read all three together, over TLS', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      });

      expect(sut.kafka.sasl).toEqual({ mechanism: 'plain', username: 'u', password: 'p' });
    });
  });

  describe('safe defaults and their loudly named opt-ins', () => {
    const KEY_SET = 'https://idp.test/.well-known/jwks.json';
    const SASL = {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
    };
    const INSECURE = { ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT: 'true' };
    const PRODUCTION = { NODE_ENV: 'production', MANAGEMENT_PORT: '9464' };

    it('should require JWT_AUDIENCE, so that tokens for other clients of the identity provider are refused', () => {
      expect(problemsOf({ KAFKA_BROKERS: 'k:1', JWT_SECRET: SECRET })).toEqual([
        'JWT_AUDIENCE: required, so that tokens issued for other clients cannot open streams; set JWT_AUDIENCE_OPTIONAL=true to accept any audience',
      ]);
    });

    it('should accept any audience with JWT_AUDIENCE_OPTIONAL=true, and say so', () => {
      const sut = parseGatewayConfig({
        KAFKA_BROKERS: 'k:1',
        JWT_SECRET: SECRET,
        JWT_AUDIENCE_OPTIONAL: 'true',
      });

      expect(sut.auth.audience).toBeUndefined();
      expect(sut.warnings).toEqual([
        'JWT_AUDIENCE_OPTIONAL=true: any token this key verifies opens streams, whoever it was issued for',
      ]);
    });

    it('should check the audience when both are set, without a warning', () => {
      const sut = parseGatewayConfig({ ...BASE, JWT_AUDIENCE_OPTIONAL: 'true' });

      expect([sut.auth.audience, sut.warnings]).toEqual(['gateway', []]);
    });

    it.each(['at+jwt', 'application/at+jwt', 'JWT'])('should read JWT_TYPE=%p', (type) => {
      expect(parseGatewayConfig({ ...BASE, JWT_TYPE: type }).auth.type).toBe(type);
    });

    it.each(['at jwt', 'x'.repeat(65), 'at+jwt\n'])('should reject JWT_TYPE=%p', (type) => {
      expect(problemsOf({ ...BASE, JWT_TYPE: type })).toEqual([
        'JWT_TYPE: must be a media type such as at+jwt',
      ]);
    });

    it.each([
      ['-1', 'JWT_CLOCK_TOLERANCE_SECONDS: Too small: expected number to be >=0'],
      ['301', 'JWT_CLOCK_TOLERANCE_SECONDS: Too big: expected number to be <=300'],
    ])('should keep the clock tolerance small: refuse %p', (value, problem) => {
      expect(problemsOf({ ...BASE, JWT_CLOCK_TOLERANCE_SECONDS: value })).toEqual([problem]);
    });

    it('should refuse a JWKS over plain http', () => {
      expect(
        problemsOf({
          ...AUDIENCE,
          KAFKA_BROKERS: 'k:1',
          JWT_JWKS_URL: 'http://idp.test/jwks',
          TICKET_SECRET,
        }),
      ).toEqual([
        'JWT_JWKS_URL: must be https, or the keys that verify tokens could be forged on the way; set ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true for local development',
      ]);
    });

    it('should take a JWKS over https', () => {
      expect(
        parseGatewayConfig({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', JWT_JWKS_URL: KEY_SET, TICKET_SECRET })
          .warnings,
      ).toEqual([]);
    });

    it('should refuse SASL without TLS, PLAIN and SCRAM alike', () => {
      for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'])
        expect(problemsOf({ ...BASE, ...SASL, KAFKA_SASL_MECHANISM: mechanism })).toEqual([
          'KAFKA_SSL: must be true with SASL, or the Kafka credentials and events cross the network in clear text; set ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true for local development',
        ]);
    });

    it('should allow both with ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true, and say what it allows', () => {
      const sut = parseGatewayConfig({
        ...AUDIENCE,
        ...SASL,
        ...INSECURE,
        KAFKA_BROKERS: 'k:1',
        JWT_JWKS_URL: 'http://localhost:8080/jwks',
        TICKET_SECRET,
      });

      expect(sut.warnings).toEqual([
        'ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT=true: the JWKS over plain http and SASL to Kafka without TLS; never in production',
      ]);
    });

    it('should serve the browser client unless CLIENT_BUNDLE=false, also under NODE_ENV=production', () => {
      expect(parseGatewayConfig({ ...BASE, ...PRODUCTION }).clientBundle).toEqual({ enabled: true });
      expect(parseGatewayConfig({ ...BASE, CLIENT_BUNDLE: 'false' }).clientBundle).toEqual({
        enabled: false,
      });
    });

    it('should refuse CLIENT_BUNDLE=false with the demo, whose page loads /client.js', () => {
      expect(problemsOf({ ...BASE, DEMO_ENABLED: 'true', CLIENT_BUNDLE: 'false' })).toEqual([
        'CLIENT_BUNDLE: the demo page loads the client from /client.js; leave it on with DEMO_ENABLED',
      ]);
    });

    it('should default the cookie to a __Host- name, which no sibling subdomain can set', () => {
      expect(parseGatewayConfig(BASE).auth.cookieName).toBe('__Host-access_token');
    });

    describe('under NODE_ENV=production', () => {
      it('should start with the required settings and a management port', () => {
        const sut = parseGatewayConfig({ ...BASE, ...PRODUCTION });

        expect([sut.http.managementPort, sut.warnings]).toEqual([9464, []]);
      });

      it('should refuse the demo, which signs in anyone as anyone', () => {
        expect(problemsOf({ ...BASE, ...PRODUCTION, DEMO_ENABLED: 'true' })).toEqual([
          'DEMO_ENABLED: refused under NODE_ENV=production: the demo signs in anyone as anyone',
        ]);
      });

      it('should refuse the opt-in for insecure transports, which is for local development', () => {
        expect(problemsOf({ ...BASE, ...PRODUCTION, ...INSECURE })).toEqual([
          'ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT: refused under NODE_ENV=production',
        ]);
      });

      it('should require MANAGEMENT_PORT, or MANAGEMENT_ON_PUBLIC_PORT=true with a warning', () => {
        expect(problemsOf({ ...BASE, NODE_ENV: 'production' })).toEqual([
          'MANAGEMENT_PORT: required under NODE_ENV=production, so that metrics, probes and docs stay off the public port; set MANAGEMENT_ON_PUBLIC_PORT=true to serve them on PORT',
        ]);
        expect(
          parseGatewayConfig({ ...BASE, NODE_ENV: 'production', MANAGEMENT_ON_PUBLIC_PORT: 'true' }).warnings,
        ).toEqual([
          'MANAGEMENT_ON_PUBLIC_PORT=true: metrics, probes and docs are served, unauthenticated, on the public port',
        ]);
      });

      it('should name every unsafe setting in one error', () => {
        expect(
          problemsOf({
            ...SASL,
            NODE_ENV: 'production',
            KAFKA_BROKERS: 'k:1',
            JWT_JWKS_URL: 'http://idp.test/jwks',
            TICKET_SECRET,
            DEMO_ENABLED: '1',
          }),
        ).toEqual([
          expect.stringMatching(/^JWT_AUDIENCE: required/),
          expect.stringMatching(/^JWT_JWKS_URL: must be https/),
          expect.stringMatching(/^KAFKA_SSL: must be true with SASL/),
          expect.stringMatching(/^DEMO_ENABLED: refused under NODE_ENV=production/),
          expect.stringMatching(/^MANAGEMENT_PORT: required under NODE_ENV=production/),
        ]);
      });
    });

    describe('MANAGEMENT_PORT', () => {
      it('should refuse the public port', () => {
        expect(problemsOf({ ...BASE, PORT: '8080', MANAGEMENT_PORT: '8080' })).toEqual([
          'MANAGEMENT_PORT: must differ from PORT',
        ]);
        expect(problemsOf({ ...BASE, MANAGEMENT_PORT: '3000' })).toEqual([
          'MANAGEMENT_PORT: must differ from PORT',
        ]);
      });

      it('should take port 0 for both, as tests do: each gets a free port of its own', () => {
        expect(parseGatewayConfig({ ...BASE, PORT: '0', MANAGEMENT_PORT: '0' }).http).toMatchObject({
          port: 0,
          managementPort: 0,
        });
      });

      it('should refuse MANAGEMENT_ON_PUBLIC_PORT alongside it', () => {
        expect(problemsOf({ ...BASE, MANAGEMENT_PORT: '9464', MANAGEMENT_ON_PUBLIC_PORT: 'true' })).toEqual([
          'MANAGEMENT_ON_PUBLIC_PORT: contradicts MANAGEMENT_PORT; set one of them',
        ]);
      });
    });

    it.each([
      ['SHUTDOWN_DELAY_MS', '-1', 'SHUTDOWN_DELAY_MS: Too small: expected number to be >=0'],
      ['SHUTDOWN_DELAY_MS', '600001', 'SHUTDOWN_DELAY_MS: Too big: expected number to be <=600000'],
      ['PUBLISH_RATE_PER_SECOND', '0', 'PUBLISH_RATE_PER_SECOND: Too small: expected number to be >=1'],
    ])('should reject %s=%p', (name, value, problem) => {
      expect(problemsOf({ ...BASE, [name]: value })).toEqual([problem]);
    });
  });

  describe('reporting', () => {
    it('should name every problem at once in one ConfigError', () => {
      let error: unknown;
      try {
        parseGatewayConfig({ KAFKA_BROKERS: 'localhost', PORT: '70000', KAFKA_SASL_USERNAME: 'user' });
      } catch (err) {
        error = err;
      }

      expect(error).toBeInstanceOf(ConfigError);
      const sut = error as ConfigError;
      expect(sut.name).toBe('ConfigError');
      expect(sut.problems).toEqual(
        expect.arrayContaining([
          'PORT: Too big: expected number to be <=65535',
          'KAFKA_BROKERS.0: each broker must be host:port',
          'JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL: set exactly one of them to verify tokens',
          'KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: set all three or none',
          'JWT_AUDIENCE: required, so that tokens issued for other clients cannot open streams; set JWT_AUDIENCE_OPTIONAL=true to accept any audience',
        ]),
      );
      expect(sut.problems).toHaveLength(5);
      expect(sut.message.startsWith('Invalid configuration:')).toBe(true);
      for (const problem of sut.problems) expect(sut.message).toContain(`\n  - ${problem}`);
    });

    it('should report schema and key problems together', () => {
      expect(
        problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'a:b', JWT_SECRET: 'short', TICKET_TTL_SECONDS: '1' }),
      ).toEqual(
        expect.arrayContaining([
          'KAFKA_BROKERS.0: each broker must be host:port',
          'TICKET_TTL_SECONDS: Too small: expected number to be >=5',
          'JWT_SECRET: must be at least 32 bytes for HS256',
        ]),
      );
    });
  });

  describe('partition ownership', () => {
    it('should be off by default', () => {
      expect(parseGatewayConfig(BASE).ownership).toBeUndefined();
    });

    it('should stay off in every-instance mode, whatever else is set', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        KAFKA_TOPICS: 'orders,news',
        KAFKA_BROADCAST_TOPICS: 'news',
        GATEWAY_NODE_NAME: 'gw-1',
      });

      expect(sut.ownership).toBeUndefined();
    });

    it('should split keyed and broadcast topics and default the group from the prefix', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        KAFKA_CONSUMPTION: 'partition-owner',
        KAFKA_TOPICS: 'orders,news,chat',
        KAFKA_BROADCAST_TOPICS: 'news, news',
        KAFKA_GROUP_PREFIX: 'gw.prod',
        GATEWAY_NODE_NAME: 'gw-2',
      });

      expect(sut.ownership).toEqual({
        node: 'gw-2',
        group: 'gw.prod.owners',
        keyedTopics: ['orders', 'chat'],
        broadcastTopics: ['news'],
      });
      expect(sut.kafka.topics).toEqual(['orders', 'news', 'chat']);
    });

    it('should read the owner group, and take a node name from the host name by default', () => {
      const sut = parseGatewayConfig({
        ...BASE,
        KAFKA_CONSUMPTION: 'partition-owner',
        KAFKA_OWNER_GROUP: 'owners',
      });

      expect(sut.ownership?.group).toBe('owners');
      expect(sut.ownership?.broadcastTopics).toEqual([]);
      expect(sut.ownership?.node).toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
    });

    it('should refuse an unknown mode, a bad node name, broadcast topics not consumed, and no keyed topic', () => {
      expect(
        problemsOf({
          ...BASE,
          KAFKA_CONSUMPTION: 'sharded',
          GATEWAY_NODE_NAME: 'GW_1',
          KAFKA_BROADCAST_TOPICS: 'news',
        }),
      ).toEqual([
        expect.stringMatching(/^KAFKA_CONSUMPTION: /),
        expect.stringMatching(/^GATEWAY_NODE_NAME: use 1-63 lower-case letters/),
        'KAFKA_BROADCAST_TOPICS: news must also be listed in KAFKA_TOPICS, which names every topic the gateway reads',
      ]);
      expect(
        problemsOf({
          ...BASE,
          KAFKA_CONSUMPTION: 'partition-owner',
          KAFKA_TOPICS: 'news',
          KAFKA_BROADCAST_TOPICS: 'news',
        }),
      ).toEqual([
        expect.stringMatching(
          /^KAFKA_BROADCAST_TOPICS: with KAFKA_CONSUMPTION=partition-owner, at least one/,
        ),
      ]);
    });
  });

  describe('CONFIG_VARIABLES', () => {
    it('should list every variable the gateway reads', () => {
      expect([...CONFIG_VARIABLES].sort()).toEqual(
        [
          'ALLOW_INSECURE_TRANSPORTS_FOR_LOCAL_DEVELOPMENT',
          'AUTH_COOKIE_NAME',
          'CLIENT_BUNDLE',
          'CORS_ORIGINS',
          'DEMO_ENABLED',
          'GATEWAY_NODE_NAME',
          'HOST',
          'JWT_ALGORITHM',
          'JWT_AUDIENCE',
          'JWT_AUDIENCE_OPTIONAL',
          'JWT_CLOCK_TOLERANCE_SECONDS',
          'JWT_ISSUER',
          'JWT_JWKS_URL',
          'JWT_PUBLIC_KEY',
          'JWT_SECRET',
          'JWT_TYPE',
          'KAFKA_BROADCAST_TOPICS',
          'KAFKA_BROKERS',
          'KAFKA_CLIENT_ID',
          'KAFKA_CONSUMPTION',
          'KAFKA_DEAD_LETTER_TOPIC',
          'KAFKA_POSITIONS_TOPIC',
          'KAFKA_GROUP_PREFIX',
          'KAFKA_MAX_RECORD_BYTES',
          'KAFKA_MAX_DECOMPRESSED_BYTES',
          'KAFKA_MAX_BATCH_RECORDS',
          'KAFKA_METADATA_REFRESH_MS',
          'KAFKA_OWNER_GROUP',
          'KAFKA_RECOVERY_TIMEOUT_MS',
          'KAFKA_SASL_MECHANISM',
          'KAFKA_SASL_PASSWORD',
          'KAFKA_SASL_USERNAME',
          'KAFKA_SSL',
          'KAFKA_TOPICS',
          'LOG_FORMAT',
          'LOG_LEVEL',
          'MANAGEMENT_ON_PUBLIC_PORT',
          'MANAGEMENT_PORT',
          'NODE_ENV',
          'PORT',
          'PUBLISH_CLAIM',
          'PUBLISH_RATE_PER_SECOND',
          'PUBLISH_VALUE',
          'REPLAY_MAX_BYTES',
          'REPLAY_MAX_BYTES_PER_USER',
          'REPLAY_MAX_BROADCAST_BYTES',
          'REPLAY_WINDOW_MS',
          'RESUME_HORIZON_RECORDS',
          'CATCH_UP_MAX_PARTITIONS',
          'SHUTDOWN_DELAY_MS',
          'SHUTDOWN_TIMEOUT_MS',
          'SSE_HEARTBEAT_MS',
          'SSE_MAX_LIFETIME_MS',
          'SSE_RETRY_MS',
          'STREAMS_MAX',
          'STREAM_OPENS_PER_SECOND',
          'STREAM_OPENS_PER_USER_PER_MINUTE',
          'STREAMS_PER_USER_MAX',
          'TICKET_SECRET',
          'TICKET_TTL_SECONDS',
        ].sort(),
      );
    });
  });
});

describe('parseGatewayConfig broker ports', () => {
  it.each(['kafka:99999', 'kafka:65536', 'kafka:0'])(
    'should reject the out-of-range broker port %p',
    (broker) => {
      expect(problemsOf({ ...AUDIENCE, KAFKA_BROKERS: broker, JWT_SECRET: SECRET })).toEqual([
        'KAFKA_BROKERS.0: each broker must be host:port',
      ]);
    },
  );
});

describe('parseGatewayConfig every problem at once', () => {
  it('should report a missing TICKET_SECRET alongside an HS256 algorithm mismatch for a public key', () => {
    expect(
      problemsOf({ ...AUDIENCE, KAFKA_BROKERS: 'k:1', JWT_PUBLIC_KEY: PEM, JWT_ALGORITHM: 'HS256' }),
    ).toEqual([
      'JWT_ALGORITHM: HS256 needs JWT_SECRET; a public key or JWKS verifies RS256 or ES256',
      'TICKET_SECRET: required when tokens are verified with a public key or JWKS',
    ]);
  });
});
