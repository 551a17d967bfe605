import type { ArgumentsHost } from '@nestjs/common';
import { GatewayError } from './gateway-error.js';
import { GatewayErrorFilter } from './gateway-error.filter.js';

function responseDouble(headersSent = false) {
  const written: { status?: number; headers?: Record<string, string>; body?: string; destroyed: boolean } = {
    destroyed: false,
  };
  const response = {
    headersSent,
    writeHead: (status: number, headers: Record<string, string>) =>
      Object.assign(written, { status, headers }),
    end: (body: string) => (written.body = body),
    destroy: () => (written.destroyed = true),
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  return { host, written };
}

describe(GatewayErrorFilter.name, () => {
  const sut = new GatewayErrorFilter();

  it.each<[GatewayError, number, string]>([
    [new GatewayError('unknown-topic', 'Unknown topic(s): "x"'), 400, 'Bad Request'],
    [new GatewayError('unauthenticated', 'Invalid token'), 401, 'Unauthorized'],
    [new GatewayError('ticket-used', 'Ticket already used'), 401, 'Unauthorized'],
    [new GatewayError('topic-forbidden', 'Not allowed'), 403, 'Forbidden'],
    [new GatewayError('not-found', 'Cannot GET /metrics'), 404, 'Not Found'],
    [new GatewayError('kafka-unavailable', 'Try again'), 503, 'Service Unavailable'],
    [new GatewayError('shutting-down', 'Reconnect elsewhere'), 503, 'Service Unavailable'],
  ])('should answer %s as JSON with its status', (error, status, name) => {
    const { host, written } = responseDouble();

    sut.catch(error, host);

    expect(written.status).toBe(status);
    expect(written.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(written.body!)).toEqual({ statusCode: status, error: name, message: error.message });
  });

  it('should send Retry-After when the error says when to come back', () => {
    const { host, written } = responseDouble();

    sut.catch(new GatewayError('rate-limited', 'Too fast', 3), host);

    expect(written.status).toBe(429);
    expect(written.headers?.['retry-after']).toBe('3');
  });

  it('should list every problem when there are several', () => {
    const { host, written } = responseDouble();

    sut.catch(new GatewayError('bad-request', ['type is required', 'data is required']), host);

    expect(JSON.parse(written.body!)).toMatchObject({ message: ['type is required', 'data is required'] });
  });

  it('should cut a response whose headers are out, as nothing can be answered any more', () => {
    const { host, written } = responseDouble(true);

    sut.catch(new GatewayError('bad-request', 'late'), host);

    expect(written).toEqual({ destroyed: true });
  });
});
