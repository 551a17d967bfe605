import { ownerLocation, routeStream, type OwnerRoute, type RouteFacts } from './owner-routing.js';

describe(routeStream.name, () => {
  const facts = (overrides: Partial<RouteFacts>): RouteFacts => ({
    servesHere: false,
    owner: 'gw-2',
    self: 'gw-1',
    named: undefined,
    ...overrides,
  });

  it.each<[string, Partial<RouteFacts>, OwnerRoute]>([
    [
      'serve what this instance holds warm, whatever the map or the URL say',
      { servesHere: true, owner: undefined, named: 'gw-3' },
      { kind: 'serve' },
    ],
    ['redirect to the owner the map names', {}, { kind: 'redirect', node: 'gw-2' }],
    [
      'redirect a request that names a node that is not the owner (a stale URL)',
      { named: 'gw-3' },
      { kind: 'redirect', node: 'gw-2' },
    ],
    ['ask again later while the map is rebuilt', { owner: undefined }, { kind: 'retry', reason: 'no-map' }],
    [
      'ask again later when it owns the partition but cannot serve it yet',
      { owner: 'gw-1', named: 'gw-1' },
      { kind: 'retry', reason: 'not-ready' },
    ],
    [
      'ask again later, not redirect again, when the named owner could not be reached',
      { named: 'gw-2' },
      { kind: 'retry', reason: 'owner-unreachable' },
    ],
  ])('should %s', (_, overrides, expected) => {
    expect(routeStream(facts(overrides))).toEqual(expected);
  });
});

describe(ownerLocation.name, () => {
  it.each([
    ['/events?topics=orders', 'events?topics=orders&node=gw-2'],
    ['/events?topics=orders&node=gw-1', 'events?topics=orders&node=gw-2'],
    ['/events', 'events?node=gw-2'],
    ['/api/v1/events?ticket=abc.def', 'events?ticket=abc.def&node=gw-2'],
    [
      '/events?lastEventId=orders%2F1%2F9%3Borders%3DAQI&topics=a,b',
      'events?lastEventId=orders%2F1%2F9%3Borders%3DAQI&topics=a%2Cb&node=gw-2',
    ],
  ])('should keep the path and query of %s, with node set, relative to the path', (url, location) => {
    expect(ownerLocation(url, 'gw-2')).toBe(location);
    expect(new URL(location, `http://lb.example${url}`).searchParams.get('node')).toBe('gw-2');
  });
});
