import { ConsumerHealthService, FETCH_STALE_MS, type Readiness } from './consumer-health.service.js';

const NOW = 1_700_000_000_000;
const NOT_STARTED = 'Kafka consumer not in its group (not started)';
const NO_FETCH = 'no fetch from Kafka for over 10 s';
const warming = (behind: number): string => `replay buffer warming up: ${behind} partition(s) behind`;

describe(ConsumerHealthService.name, () => {
  let sut: ConsumerHealthService;

  /** A consumer that is in its group and fetched just now: only warm-up can hold it back. */
  const connected = (): void => {
    sut.joinedGroup();
    sut.fetched(NOW);
  };

  beforeEach(() => {
    sut = new ConsumerHealthService();
  });

  describe('readiness', () => {
    it('should not be ready before the consumer started, naming every reason', () => {
      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: false, reasons: [NOT_STARTED, NO_FETCH] });
    });

    it('should be ready once in the group, fetching and warm', () => {
      connected();

      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: true, reasons: [] });
    });

    it('should not be ready in the group without a fetch yet', () => {
      sut.joinedGroup();

      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: false, reasons: [NO_FETCH] });
    });

    it('should not be ready when fetching outside the group', () => {
      sut.fetched(NOW);

      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: false, reasons: [NOT_STARTED] });
    });

    it('should name the three reasons in order when all apply', () => {
      sut.expectEnd('orders', 0, 0, 5);

      expect(sut.readiness(NOW).reasons).toEqual([NOT_STARTED, NO_FETCH, warming(1)]);
    });

    it('should use the current time by default', () => {
      connected();
      sut.fetched();

      expect(sut.readiness()).toEqual<Readiness>({ ready: true, reasons: [] });
    });
  });

  describe('group membership', () => {
    it('should report why the consumer left its group', () => {
      connected();

      sut.lost('rebalancing');

      expect(sut.readiness(NOW)).toEqual<Readiness>({
        ready: false,
        reasons: ['Kafka consumer not in its group (rebalancing)'],
      });
    });

    it('should report the latest reason when lost more than once', () => {
      connected();
      sut.lost('rebalancing');

      sut.lost('crashed: broker down');

      expect(sut.readiness(NOW).reasons).toEqual(['Kafka consumer not in its group (crashed: broker down)']);
    });

    it('should be ready again after rejoining', () => {
      connected();
      sut.lost('disconnected');

      sut.joinedGroup();

      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: true, reasons: [] });
    });
  });

  describe('fetches', () => {
    it(`should count a fetch as fresh for ${FETCH_STALE_MS} ms and stale after`, () => {
      connected();

      expect(sut.readiness(NOW + FETCH_STALE_MS)).toEqual<Readiness>({ ready: true, reasons: [] });
      expect(sut.readiness(NOW + FETCH_STALE_MS + 1)).toEqual<Readiness>({
        ready: false,
        reasons: [NO_FETCH],
      });
    });

    it('should be fresh again after a new fetch', () => {
      connected();

      sut.fetched(NOW + 20_000);

      expect(sut.readiness(NOW + 25_000)).toEqual<Readiness>({ ready: true, reasons: [] });
    });
  });

  describe('warm-up', () => {
    it('should be warm with no partition expected', () => {
      expect(sut.warm).toBe(true);
    });

    it('should be warm at once for a partition whose start is at or past its end', () => {
      sut.expectEnd('orders', 0, 10, 10);
      sut.expectEnd('orders', 1, 12, 10);
      connected();

      expect(sut.warm).toBe(true);
      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: true, reasons: [] });
    });

    it('should count the partitions behind until processing reaches their end', () => {
      sut.expectEnd('orders', 0, 0, 10);
      sut.expectEnd('orders', 1, 5, 7);
      connected();
      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: false, reasons: [warming(2)] });

      sut.reached('orders', 0, 9);
      expect(sut.readiness(NOW).reasons).toEqual([warming(2)]);

      sut.reached('orders', 0, 10);
      expect(sut.readiness(NOW).reasons).toEqual([warming(1)]);
      expect(sut.warm).toBe(false);

      sut.reached('orders', 1, 8);
      expect(sut.warm).toBe(true);
      expect(sut.readiness(NOW)).toEqual<Readiness>({ ready: true, reasons: [] });
    });

    it('should keep topics and partitions apart', () => {
      sut.expectEnd('orders', 0, 0, 10);

      sut.reached('orders', 1, 10);
      sut.reached('chat', 0, 10);

      expect(sut.warm).toBe(false);
    });

    it('should stay warm once warm', () => {
      sut.expectEnd('orders', 0, 0, 10);
      sut.reached('orders', 0, 10);

      sut.reached('orders', 0, 3);

      expect(sut.warm).toBe(true);
    });
  });

  describe('a consumer that stopped', () => {
    it('should fail readiness at once while it is replaced, and be ready again once a new one fetched', () => {
      connected();
      sut.broken('KafkaJSNonRetriableError: not authorised', NOW);

      expect(sut.recovering).toBe(true);
      expect(sut.readiness(NOW).reasons).toEqual([
        'Kafka consumer stopped (KafkaJSNonRetriableError: not authorised); replacing it',
      ]);
      sut.joinedGroup();
      expect(sut.readiness(NOW).ready).toBe(false);
      sut.fetched(NOW + 100);
      expect(sut.recovering).toBe(false);
      expect(sut.readiness(NOW + 100).ready).toBe(true);
    });

    it('should count a consumer that rejoins and stops again as not recovered, from its first stop', () => {
      const deaths: string[] = [];
      sut.onDeath((reason) => deaths.push(reason));
      // A replacement joins its group, fetches the same unreadable batch and stops, once a second.
      for (let second = 0; second <= 120; second++) {
        sut.broken('RangeError: Maximum call stack size exceeded', NOW + second * 1000);
        sut.joinedGroup();
        sut.checkRecovery(120_000, undefined, NOW + second * 1000 + 500);
      }

      expect(deaths).toEqual(['RangeError: Maximum call stack size exceeded']);
      expect(sut.liveness().ready).toBe(false);
    });

    it('should start a new recovery deadline after a replacement fetched', () => {
      const deaths: string[] = [];
      sut.onDeath((reason) => deaths.push(reason));
      sut.broken('gone', NOW);
      sut.fetched(NOW + 100_000);
      sut.broken('gone again', NOW + 110_000);

      expect(sut.checkRecovery(120_000, undefined, NOW + 200_000)).toBe(false);
      expect(sut.checkRecovery(120_000, undefined, NOW + 230_001)).toBe(true);
      expect(deaths).toEqual(['gone again']);
    });

    it('should stay live while it is replaced, and fail liveness for good once that failed', () => {
      const deaths: string[] = [];
      sut.onDeath((reason) => deaths.push(reason));
      sut.broken('gone');
      expect(sut.liveness()).toEqual({ ready: true, reasons: [] });

      sut.dead('no broker for 120 s');
      sut.dead('again');

      expect(sut.liveness()).toEqual({
        ready: false,
        reasons: ['the Kafka consumer stopped and could not be replaced: no broker for 120 s'],
      });
      expect(deaths).toEqual(['no broker for 120 s']);
    });

    it('should name a configured topic that no longer exists', () => {
      connected();
      sut.topicMissing('orders', true);
      expect(sut.readiness(NOW).reasons).toEqual(['topic orders does not exist in Kafka']);
      sut.topicMissing('orders', false);
      expect(sut.readiness(NOW).ready).toBe(true);
    });
  });
});
