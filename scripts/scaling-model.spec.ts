import {
  brokerEgress,
  clusterCpu,
  everyInstanceCeiling,
  fits,
  instancesNeeded,
  perInstance,
  rebalanceChurn,
  windowLimitedRate,
  type Costs,
  type Limits,
} from './scaling-model.mjs';

/**
 * One case worked by hand: 30,000 users, 10,000 targeted events/s and 1 broadcast/s on 3
 * instances, 12 partitions; round numbers for every cost.
 */
const costs: Costs = {
  recordMicros: 20,
  deliveryMicros: 10,
  broadcastRecordMicros: 20,
  broadcastDeliveryMicros: 2,
  connectionBytes: 1000,
  bufferedEventBytes: 100,
  recordBytes: 100,
  broadcastBytes: 200,
};
const limits: Limits = {
  partitions: 12,
  targetUtilisation: 0.5,
  streamsMax: 10_000,
  replayWindowS: 100,
  replayMaxBytes: 1e9,
  maxInstances: 100,
};
const load = { users: 30_000, events: 10_000, broadcasts: 1 };

describe('scaling model', () => {
  describe('every instance reads every record', () => {
    it('should charge each instance every record, its third of the deliveries and its broadcasts', () => {
      const sut = perInstance('every', 3, load, costs, limits);

      // 10,000 × 20 + 3,333.3 × 10 + 1 × 20 + 1 × 10,000 × 2 = 253,353.3 µs per second
      expect(sut.connections).toBe(10_000);
      expect(sut.cpu).toBeCloseTo(0.2533533, 6);
      // 10,000 streams × 1,000 B + 100 s × 10,001 events/s × 100 B
      expect(sut.memoryBytes).toBe(110_010_000);
      expect(sut.effectiveWindowS).toBe(100);
    });

    it('should cost the cluster N times the reading', () => {
      // (3 × 10,000 × 20 + 10,000 × 10 + 3 × 20 + 30,000 × 2) µs
      expect(clusterCpu('every', 3, load, costs)).toBeCloseTo(0.76006, 6);
      expect(brokerEgress('every', 3, load, costs)).toBe(3 * (1_000_000 + 200));
    });

    it('should stop where reading every record alone fills an instance', () => {
      // (0.5 × 1e6 − 20) / 20
      expect(everyInstanceCeiling(1, costs, limits)).toBe(24_999);
      expect(fits('every', 100, { ...load, events: 25_000 }, costs, limits)).toBe(false);
    });

    it('should keep the window the memory cap allows', () => {
      const capped = { ...limits, replayMaxBytes: 1e6 };

      // 1e6 B ÷ (10,001 events/s × 100 B)
      expect(perInstance('every', 3, load, costs, capped).effectiveWindowS).toBeCloseTo(0.99990001, 6);
      expect(windowLimitedRate(60, costs, capped)).toBeCloseTo(166.6667, 3);
    });
  });

  describe('partition ownership', () => {
    it('should charge each instance its share of the records and deliveries, and every broadcast', () => {
      const sut = perInstance('owner', 3, load, costs, limits);

      // 3,333.3 × (20 + 10) + 20 + 10,000 × 2 = 120,020 µs per second
      expect(sut.connections).toBe(10_000);
      expect(sut.cpu).toBeCloseTo(0.12002, 6);
      expect(clusterCpu('owner', 3, load, costs)).toBeCloseTo(0.36006, 6);
      expect(brokerEgress('owner', 3, load, costs)).toBe(1_000_000 + 3 * 200);
    });

    it('should load the busiest instance with ⌈P/N⌉ partitions', () => {
      // 5 instances over 12 partitions: the busiest owns 3, a quarter of the users.
      expect(perInstance('owner', 5, load, costs, limits).connections).toBe(7500);
      expect(fits('owner', 13, load, costs, limits)).toBe(false);
    });

    it('should move a newcomer its ⌊P/(N+1)⌋ partitions, with their users and windows', () => {
      const sut = rebalanceChurn('owner', 3, load, costs, limits);

      // 3 of 12 partitions; each has 10,000 / 12 events/s over a 100 s window to read.
      expect(sut.joinMoves).toBe(7500);
      expect(sut.leaveMoves).toBe(10_000);
      expect(sut.joinWarmRecords).toBeCloseTo(250_000, 6);
      expect(sut.leaveWarmRecords).toBeCloseTo(333_333.33, 1);
    });
  });

  it('should size both designs by the tighter of CPU and streams per instance', () => {
    expect(instancesNeeded('every', load, costs, limits)).toBe(3);
    expect(instancesNeeded('owner', load, costs, limits)).toBe(3);
    expect(instancesNeeded('every', { ...load, events: 30_000 }, costs, limits)).toBeNull();
    // 30,000 events/s on 3: 4 partitions, 10,000 events/s × 30 µs + 20,020 µs of broadcast = 0.32 of a core.
    expect(instancesNeeded('owner', { ...load, events: 30_000 }, costs, limits)).toBe(3);
  });
});
