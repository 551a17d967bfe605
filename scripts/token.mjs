// @ts-check
/**
 * `npm run token -- --user alice [--topics a,b] [--publish] [--ttl 10m]`: an access token for the
 * gateway, signed with JWT_SECRET or with the running demo's key.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { commandLine, fail } from './command-line.mjs';
import { runningDemo } from './demo-state.mjs';
import { splitList } from './kafka-topics.mjs';

const USAGE = `
Usage: npm run -s token -- --user ID [--topics a,b] [--publish] [--ttl 10m]

Prints an HS256 access token for the gateway, and nothing else, so that
TOKEN=$(npm run -s token -- --user alice) works. Signed with JWT_SECRET for JWT_AUDIENCE (and
JWT_ISSUER, PUBLISH_CLAIM, PUBLISH_VALUE when set), or else with the running npm run demo's key.

  --user ID      the token's subject: the user whose events it reads (required)
  --topics a,b   only these topics (the token's topics claim); default: every topic
  --publish      may also publish with POST /events (PUBLISH_CLAIM gets PUBLISH_VALUE)
  --ttl 10m      how long it is valid: 90s, 10m, 2h or 1d (default 1h)
`;

/**
 * Seconds in a duration such as `90s`, `10m`, `2h` or `1d`, or undefined.
 * @param {string} text
 */
export function ttlSeconds(text) {
  const match = /^(\d{1,6})([smhd])$/.exec(text);
  if (!match) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[/** @type {'s' | 'm' | 'h' | 'd'} */ (match[2])];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : undefined;
}

/**
 * @typedef {{ secret: string, audience: string, issuer?: string, publishClaim: string, publishValue: string }} SigningKey
 */

/**
 * An access token as an identity provider would issue it to the gateway.
 * @param {SigningKey} key
 * @param {{ user: string, topics?: string[], publish?: boolean, ttlSeconds: number }} claims
 */
export function signAccessToken(key, { user, topics, publish, ttlSeconds: ttl }) {
  const jwt = new SignJWT({
    ...(topics ? { topics } : {}),
    ...(publish ? { [key.publishClaim]: key.publishValue } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user)
    .setAudience(key.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`);
  if (key.issuer) jwt.setIssuer(key.issuer);
  return jwt.sign(new TextEncoder().encode(key.secret));
}

/** @returns {SigningKey} */
function signingKey() {
  const env = process.env;
  if (env.JWT_SECRET) {
    if (!env.JWT_AUDIENCE) fail('Set JWT_AUDIENCE too: the gateway refuses tokens without its audience.');
    return {
      secret: env.JWT_SECRET,
      audience: env.JWT_AUDIENCE,
      issuer: env.JWT_ISSUER,
      publishClaim: env.PUBLISH_CLAIM ?? 'scope',
      publishValue: env.PUBLISH_VALUE ?? 'events:publish',
    };
  }
  let demo;
  try {
    demo = runningDemo();
  } catch (err) {
    fail(/** @type {Error} */ (err).message);
  }
  if (!demo) fail('No key to sign with: start `npm run demo` first, or set JWT_SECRET and JWT_AUDIENCE.', 1);
  return {
    secret: demo.jwtSecret,
    audience: demo.jwtAudience,
    publishClaim: demo.publishClaim,
    publishValue: demo.publishValue,
  };
}

async function main() {
  const options = commandLine(
    {
      user: { type: 'string' },
      topics: { type: 'string' },
      publish: { type: 'boolean' },
      ttl: { type: 'string', default: '1h' },
    },
    USAGE,
  );
  if (!options.user?.trim()) fail('Say whose token it is: --user ID (see --help)');
  const ttl = ttlSeconds(options.ttl ?? '1h');
  if (ttl === undefined) fail(`--ttl ${options.ttl}: use a duration such as 90s, 10m, 2h or 1d`);
  const topics = options.topics === undefined ? undefined : splitList(options.topics);
  if (topics?.length === 0) fail('--topics needs at least one topic, e.g. --topics orders,chat');
  const key = signingKey();
  console.log(
    await signAccessToken(key, { user: options.user, topics, publish: options.publish, ttlSeconds: ttl }),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => fail(err instanceof Error ? err.message : String(err), 1));
}
