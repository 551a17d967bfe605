import { randomUUID } from 'node:crypto';
import { probe, type ProbeAnswer } from './support/http-probe.js';
import { useGatewaySuite } from './support/gateway-suite.js';
import { signToken } from './support/tokens.js';

const APP = 'https://app.example';
/** Origins a browser could send that are not the allowed one, some of them lookalikes. */
const OTHER_ORIGINS = [
  'https://evil.example',
  'https://app.example.evil.example',
  'https://evilapp.example',
  'http://app.example',
  'https://app.example:8443',
  'null',
];

const preflight = (url: string, origin: string, method = 'GET'): Promise<ProbeAnswer> =>
  probe(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,last-event-id',
    },
  });

const corsHeaders = (answer: ProbeAnswer): Record<string, string> =>
  Object.fromEntries([...answer.headers].filter(([name]) => name.startsWith('access-control-')));

describe('CORS (e2e)', () => {
  const run = randomUUID().slice(0, 8);
  let token: string;

  beforeAll(async () => {
    token = await signToken({ sub: `cors-${run}` });
  });

  describe('with CORS_ORIGINS=https://app.example', () => {
    const suite = useGatewaySuite({ CORS_ORIGINS: APP });

    it('should allow the listed origin, with credentials, in a preflight for the stream', async () => {
      const answer = await preflight(`${suite.gateway.url}/events`, APP);

      expect(answer.status).toBeLessThan(300);
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
      expect(answer.headers.get('access-control-allow-headers')?.toLowerCase().split(',')).toEqual(
        expect.arrayContaining(['authorization', 'last-event-id']),
      );
      expect(answer.headers.get('vary')?.toLowerCase()).toContain('origin');
    });

    it('should allow the listed origin to POST for a ticket', async () => {
      const answer = await preflight(`${suite.gateway.url}/events/tickets`, APP, 'POST');

      expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
      expect(answer.headers.get('access-control-allow-methods')?.split(',')).toContain('POST');
    });

    it('should let the listed origin read the stream, with credentials', async () => {
      const answer = await probe(`${suite.gateway.url}/events`, {
        headers: { origin: APP, authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      });

      expect(answer.status).toBe(200);
      expect(answer.contentType).toContain('text/event-stream');
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
      expect(answer.firstBlock?.[0]).toEqual({ name: 'event', value: 'checkpoint' });
    });

    it("should let the listed origin read Retry-After, the server's clock and the heartbeat interval (the browser client does)", async () => {
      const answer = await probe(`${suite.gateway.url}/events`, {
        headers: { origin: APP, authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      });

      expect(answer.headers.get('sse-heartbeat-ms')).toMatch(/^\d+$/);
      expect(answer.headers.get('access-control-expose-headers')?.toLowerCase().split(',')).toEqual(
        expect.arrayContaining(['retry-after', 'date', 'sse-heartbeat-ms']),
      );
    });

    it('should let the listed origin read why a stream was refused', async () => {
      const answer = await probe(`${suite.gateway.url}/events`, { headers: { origin: APP } });

      expect(answer.status).toBe(401);
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
      expect(answer.json).toMatchObject({ statusCode: 401 });
    });

    it.each(OTHER_ORIGINS)('should give %p no Access-Control-Allow-Origin', async (origin) => {
      const answers = await Promise.all([
        preflight(`${suite.gateway.url}/events`, origin),
        probe(`${suite.gateway.url}/events`, { headers: { origin, authorization: `Bearer ${token}` } }),
        probe(`${suite.gateway.url}/events`, { headers: { origin } }),
      ]);

      for (const answer of answers) expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      // The stream itself is still served: CORS is the browser's check, not authentication.
      expect(answers[1].status).toBe(200);
    });

    it('should never answer with a wildcard', async () => {
      const answers = await Promise.all(
        [APP, ...OTHER_ORIGINS].flatMap((origin) => [
          preflight(`${suite.gateway.url}/events`, origin),
          probe(`${suite.gateway.url}/events`, { headers: { origin, authorization: `Bearer ${token}` } }),
          probe(`${suite.gateway.url}/health/live`, { headers: { origin } }),
        ]),
      );

      for (const answer of answers) {
        expect(answer.headers.get('access-control-allow-origin')).not.toBe('*');
        expect(Object.values(corsHeaders(answer))).not.toContain('*');
      }
    });
  });

  describe('without CORS_ORIGINS', () => {
    const suite = useGatewaySuite();

    it('should send no CORS header at all, whatever the origin', async () => {
      const answers = await Promise.all(
        [APP, ...OTHER_ORIGINS].flatMap((origin) => [
          preflight(`${suite.gateway.url}/events`, origin),
          probe(`${suite.gateway.url}/events`, { headers: { origin, authorization: `Bearer ${token}` } }),
          probe(`${suite.gateway.url}/events`, { headers: { origin } }),
        ]),
      );

      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1 + OTHER_ORIGINS.length);
      for (const answer of answers) expect(corsHeaders(answer)).toEqual({});
    });
  });
});
