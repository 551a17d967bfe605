import { ConfigError, parseGatewayConfig, type GatewayConfig } from './gateway.config.js';

const BASE = {
  KAFKA_BROKERS: 'localhost:9092',
  JWT_SECRET: 'a-jwt-secret-that-is-32-bytes-ok',
  JWT_AUDIENCE: 'gateway',
};

const corsOrigins = (value: string): string[] =>
  parseGatewayConfig({ ...BASE, CORS_ORIGINS: value }).http.corsOrigins;

function problemsOf(value: string): string[] {
  try {
    parseGatewayConfig({ ...BASE, CORS_ORIGINS: value });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error(`expected CORS_ORIGINS=${value} to be refused`);
}

/** What a browser can send as Origin: scheme, host and non-default port, lower case, nothing else. */
const isBareOrigin = (entry: string): boolean => URL.canParse(entry) && new URL(entry).origin === entry;

describe('CORS_ORIGINS', () => {
  it('should allow no origin by default', () => {
    const sut: GatewayConfig = parseGatewayConfig(BASE);

    expect(sut.http.corsOrigins).toEqual([]);
  });

  it('should read a comma-separated list of origins', () => {
    expect(corsOrigins(' https://app.example , http://localhost:5173,')).toEqual([
      'https://app.example',
      'http://localhost:5173',
    ]);
  });

  it.each([
    '*',
    ' * ',
    'https://app.example,*',
    '*,https://app.example',
    'null',
    'app.example',
    'ftp://app.example',
  ])('should refuse %p, naming CORS_ORIGINS', (value) => {
    const problems = problemsOf(value);

    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^CORS_ORIGINS\.\d+: /);
  });

  it('should refuse a wildcard with a ConfigError that says a wildcard is never allowed', () => {
    expect(() => corsOrigins('*')).toThrow(ConfigError);
    expect(() => corsOrigins('*')).toThrow(/a wildcard is never allowed/);
  });

  it('should report a wildcard together with every other problem', () => {
    let error: unknown;
    try {
      parseGatewayConfig({ ...BASE, CORS_ORIGINS: '*', PORT: 'x', KAFKA_TOPICS: 'bad topic' });
    } catch (err) {
      error = err;
    }

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.split(':')[0])).toEqual(
      expect.arrayContaining(['CORS_ORIGINS.0', 'PORT', 'KAFKA_TOPICS.0']),
    );
  });

  describe('a wildcard subdomain pattern', () => {
    // README: "CORS_ORIGINS: comma-separated origins ...; never a wildcard". z.url() takes `*` as a
    // host character, so `https://*.example.com` passes validation (and then matches no Origin).
    it('should refuse https://*.example.com', () => {
      expect(() => corsOrigins('https://*.example.com')).toThrow(ConfigError);
    });
  });

  describe('entries that are URLs but not origins (they would never match)', () => {
    // A browser's Origin is `scheme://host[:port]`, lower case, without a default port or a path.
    // These pass z.url() and are compared verbatim with the Origin header by the cors middleware, so
    // the application they name silently gets no CORS headers. Either refusing them or storing
    // their origin fixes it.
    it.each([
      'https://app.example/',
      'https://app.example/path',
      'https://app.example?x=1',
      'https://user:secret@app.example',
      'HTTPS://APP.EXAMPLE',
      'https://app.example:443',
    ])('should refuse %p or keep only its origin', (value) => {
      let origins: string[] | undefined;
      try {
        origins = corsOrigins(value);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return;
      }
      expect(origins.every(isBareOrigin)).toBe(true);
    });
  });
});
