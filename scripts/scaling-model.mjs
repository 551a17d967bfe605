// @ts-check
/**
 * The arithmetic of scripts/simulate-scaling.mjs, kept free of I/O so a unit spec can check it:
 * N instances holding U connections, E targeted events/s and B broadcasts/s, under two designs.
 *
 * - `every`: every instance reads every record (today). Each pays the per-record cost for all
 *   E + B records, and the per-delivery cost for its own connections.
 * - `owner`: instances share the targeted topic's P partitions through one consumer group (a
 *   user's records in one partition, its connections on that partition's owner); broadcasts are on
 *   a topic every instance reads. The busiest instance owns ⌈P/N⌉ partitions.
 *
 * Costs are CPU microseconds on one core; a Node instance has one core's worth of main thread.
 */

/**
 * @typedef {{
 *   recordMicros: number,            // reading, parsing, indexing and buffering one record
 *   deliveryMicros: number,          // one targeted delivery to one stream
 *   broadcastRecordMicros: number,   // the same for a broadcast record, before its deliveries
 *   broadcastDeliveryMicros: number, // one broadcast delivery to one stream
 *   connectionBytes: number,         // memory per open stream
 *   bufferedEventBytes: number,      // memory per event held in the replay window
 *   recordBytes: number,             // bytes leaving Kafka per targeted record
 *   broadcastBytes: number,          // bytes leaving Kafka per broadcast record
 * }} Costs
 * @typedef {{
 *   partitions: number,        // partitions of the targeted topic (owner design)
 *   targetUtilisation: number, // share of a core an instance may use (headroom for bursts, GC)
 *   streamsMax: number,        // streams one instance may hold (STREAMS_MAX)
 *   replayWindowS: number,     // REPLAY_WINDOW_MS in seconds
 *   replayMaxBytes: number,    // REPLAY_MAX_BYTES
 *   maxInstances: number,      // the largest cluster considered
 * }} Limits
 * @typedef {{ users: number, events: number, broadcasts: number }} Load
 * @typedef {'every' | 'owner'} Design
 */

/**
 * What the busiest of N instances carries.
 * @param {Design} design @param {number} instances @param {Load} load @param {Costs} costs @param {Limits} limits
 */
export function perInstance(design, instances, load, costs, limits) {
  const n = instances;
  // Owner design: the busiest instance owns ⌈P/N⌉ of P partitions, and with them that share of
  // the users (and so of the connections, which must sit on the owner) and of the records.
  const share = design === 'owner' ? Math.ceil(limits.partitions / n) / limits.partitions : 1 / n;
  const connections = load.users * share;
  const targetedRead = design === 'owner' ? load.events * share : load.events;
  const targetedDelivered = load.events * share;
  const cpuMicrosPerSecond =
    targetedRead * costs.recordMicros +
    targetedDelivered * costs.deliveryMicros +
    load.broadcasts * costs.broadcastRecordMicros +
    load.broadcasts * connections * costs.broadcastDeliveryMicros;
  const bufferedEventsPerSecond = targetedRead + load.broadcasts;
  const windowBytes = limits.replayWindowS * bufferedEventsPerSecond * costs.bufferedEventBytes;
  return {
    connections,
    /** Share of one core. */
    cpu: cpuMicrosPerSecond / 1e6,
    /** Memory of the streams plus the replay window as configured (capped by REPLAY_MAX_BYTES). */
    memoryBytes: connections * costs.connectionBytes + Math.min(windowBytes, limits.replayMaxBytes),
    /** What a full REPLAY_WINDOW_MS would need, uncapped. */
    fullWindowBytes: windowBytes,
    /** How far back resumes reach once REPLAY_MAX_BYTES caps the window, in seconds. */
    effectiveWindowS:
      bufferedEventsPerSecond === 0
        ? limits.replayWindowS
        : Math.min(
            limits.replayWindowS,
            limits.replayMaxBytes / (bufferedEventsPerSecond * costs.bufferedEventBytes),
          ),
  };
}

/**
 * CPU of the whole cluster, in cores: what it costs, beside what the busiest instance carries.
 * @param {Design} design @param {number} instances @param {Load} load @param {Costs} costs
 */
export function clusterCpu(design, instances, load, costs) {
  const readers = design === 'every' ? instances : 1;
  return (
    (readers * load.events * costs.recordMicros +
      load.events * costs.deliveryMicros +
      instances * load.broadcasts * costs.broadcastRecordMicros +
      load.broadcasts * load.users * costs.broadcastDeliveryMicros) /
    1e6
  );
}

/**
 * The cluster-wide event rate (targeted plus broadcast) above which an instance buffering all of
 * it keeps less than `seconds` of replay window under REPLAY_MAX_BYTES.
 * @param {number} seconds @param {Costs} costs @param {Limits} limits
 */
export function windowLimitedRate(seconds, costs, limits) {
  return limits.replayMaxBytes / (seconds * costs.bufferedEventBytes);
}

/**
 * Bytes per second leaving Kafka for the whole cluster.
 * @param {Design} design @param {number} instances @param {Load} load @param {Costs} costs
 */
export function brokerEgress(design, instances, load, costs) {
  const targeted = load.events * costs.recordBytes;
  const broadcast = load.broadcasts * costs.broadcastBytes;
  // Every instance reads the broadcasts in both designs; only the targeted records are shared out.
  return design === 'every' ? instances * (targeted + broadcast) : targeted + instances * broadcast;
}

/**
 * Whether N instances carry the load within the limits.
 * @param {Design} design @param {number} instances @param {Load} load @param {Costs} costs @param {Limits} limits
 */
export function fits(design, instances, load, costs, limits) {
  if (design === 'owner' && instances > limits.partitions) return false;
  const busiest = perInstance(design, instances, load, costs, limits);
  return busiest.cpu <= limits.targetUtilisation && busiest.connections <= limits.streamsMax;
}

/**
 * The smallest cluster that carries the load, or null when none up to maxInstances does.
 * @param {Design} design @param {Load} load @param {Costs} costs @param {Limits} limits
 * @returns {number | null}
 */
export function instancesNeeded(design, load, costs, limits) {
  for (let n = 1; n <= limits.maxInstances; n++) {
    if (fits(design, n, load, costs, limits)) return n;
  }
  return null;
}

/**
 * The targeted event rate every-instance-reads-all can never pass, however many instances: each
 * instance pays the per-record cost of every record, so E·r + B·r_b must stay under one
 * instance's budget. Deliveries only shrink the margin further.
 * @param {number} broadcasts @param {Costs} costs @param {Limits} limits
 */
export function everyInstanceCeiling(broadcasts, costs, limits) {
  return Math.max(
    0,
    (limits.targetUtilisation * 1e6 - broadcasts * costs.broadcastRecordMicros) / costs.recordMicros,
  );
}

/**
 * Connections that must move when one instance joins (N → N + 1) or leaves (N → N − 1), with a
 * sticky assignment (partitions stay where they are unless they must move), and the records a new
 * owner reads to warm its replay window for the partitions it takes over.
 * @param {Design} design @param {number} instances @param {Load} load @param {Costs} costs @param {Limits} limits
 */
export function rebalanceChurn(design, instances, load, costs, limits) {
  const n = instances;
  const p = limits.partitions;
  const leaverConnections = load.users / n;
  if (design === 'every') {
    // Any instance serves any user: a new instance only takes new connections; a leaver's
    // connections reconnect anywhere, and every instance already holds the window.
    return { joinMoves: 0, leaveMoves: leaverConnections, joinWarmRecords: 0, leaveWarmRecords: 0 };
  }
  // A newcomer takes ⌊P/(N+1)⌋ partitions, with their users, from the others.
  const taken = Math.floor(p / (n + 1));
  const perPartitionWindow =
    (load.events / p) * perInstance('owner', n, load, costs, limits).effectiveWindowS;
  return {
    joinMoves: (load.users * taken) / p,
    leaveMoves: leaverConnections,
    joinWarmRecords: taken * perPartitionWindow,
    // The leaver's ⌈P/N⌉ partitions are spread over the rest; each new owner warms its part.
    leaveWarmRecords: Math.ceil(p / n) * perPartitionWindow,
  };
}
