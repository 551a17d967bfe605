import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { useGatewayEvents } from './react.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeGateway } from './testing/fake-gateway.js';

describe(`${useGatewayEvents.name} under server-side rendering`, () => {
  it('should render connecting and open nothing, with no browser globals', async () => {
    const clock = new FakeClock();
    const gateway = new FakeGateway();
    let tokens = 0;
    const Status = () => {
      const { status, client } = useGatewayEvents({
        url: 'https://gw.example/events',
        getToken: () => `t${++tokens}`,
        environment: clock.environment(gateway.fetch),
      });
      return createElement('p', null, `${status.status} ${client === undefined ? 'no client' : 'client'}`);
    };

    expect(typeof window).toBe('undefined');
    expect(renderToString(createElement(Status))).toBe('<p>connecting no client</p>');
    await clock.advance(1000);
    expect(gateway.requests).toEqual([]);
    expect(tokens).toBe(0);
  });
});
