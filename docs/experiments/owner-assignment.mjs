// @ts-check
/**
 * Can one kafkajs consumer group give each instance its own partitions of the keyed topic, give
 * every instance all partitions of the broadcast topic, and let every instance learn who owns
 * what, with Kafka as the only shared system? (docs/scaling.md, "First step")
 *
 *   npm run experiment:assignment      # or: node docs/experiments/owner-assignment.mjs
 *
 * Starts the embedded Kafka (or uses KAFKA_BROKERS), a keyed topic of 6 partitions and a broadcast
 * topic of 2, and three consumers in one group with a custom assignor: keyed partitions go to one
 * member each, broadcast partitions to all of them. Each member advertises a URL in its
 * subscription's userData; after every join, each member reads the whole map (partition → URL)
 * with `consumer.describeGroup()`. Records keyed by user id are then produced; the experiment
 * checks who received what, stops one member, and checks again. Exits 1 if a check fails.
 */
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { EmbeddedKafka } from '../../scripts/embedded-kafka.mjs';
import { ensureTopics, splitList } from '../../scripts/kafka-topics.mjs';

const { Kafka, AssignerProtocol, Partitioners, logLevel } = kafkajs;

const KEYED = `owner-exp-keyed-${randomBytes(3).toString('hex')}`;
const BROADCAST = `owner-exp-broadcast-${randomBytes(3).toString('hex')}`;
const GROUP = `owner-exp-${randomBytes(3).toString('hex')}`;
const ASSIGNOR = 'gateway-owner';

/**
 * The assignor, run by the group's leader: the keyed topic's partitions round-robin over the
 * members sorted by advertised URL (a real one would be sticky, see docs/scaling.md), every
 * partition of the broadcast topic to every member. The classic group protocol stores whatever
 * the leader sends, so overlapping assignments are allowed; this checks the broker agrees.
 * @param {string} url this member's advertised URL
 * @returns {import('kafkajs').PartitionAssigner}
 */
function ownerAssigner(url) {
  return ({ cluster }) => ({
    name: ASSIGNOR,
    version: 1,
    protocol({ topics }) {
      return {
        name: ASSIGNOR,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(url) }),
      };
    },
    async assign({ members, topics }) {
      await Promise.resolve();
      const sorted = members
        .map((member) => ({
          memberId: member.memberId,
          url: AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.userData.toString() ?? '',
        }))
        .sort((a, b) => a.url.localeCompare(b.url));
      /** @type {Map<string, Record<string, number[]>>} */
      const assignment = new Map(sorted.map((member) => [member.memberId, {}]));
      for (const topic of topics) {
        const partitions = cluster
          .findTopicPartitionMetadata(topic)
          .map((p) => p.partitionId)
          .sort((a, b) => a - b);
        for (const partition of partitions) {
          const owners = topic === BROADCAST ? sorted : [sorted[partition % sorted.length]];
          for (const owner of owners) {
            if (!owner) continue;
            const forMember = /** @type {Record<string, number[]>} */ (assignment.get(owner.memberId));
            (forMember[topic] ??= []).push(partition);
          }
        }
      }
      return sorted.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: assignment.get(memberId) ?? {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

/**
 * @template T
 * @param {() => T | undefined | false | Promise<T | undefined | false>} check
 * @param {string} what
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
async function waitFor(check, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

/**
 * A member: a consumer in the shared group that records what it receives and, after each join,
 * the ownership map as describeGroup shows it.
 * @param {string[]} brokers @param {string} url
 */
async function startMember(brokers, url) {
  const kafka = new Kafka({ brokers, clientId: url, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: GROUP,
    partitionAssigners: [ownerAssigner(url)],
    maxWaitTimeInMs: 200,
    heartbeatInterval: 500,
  });
  const member = {
    url,
    consumer,
    /** @type {Array<{ topic: string, partition: number, key: string }>} */
    received: [],
    /** The map from the last join: `${topic}/${partition}` → URLs of its members. */
    owners: /** @type {Map<string, string[]>} */ (new Map()),
    generations: 0,
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    void consumer.describeGroup().then((group) => {
      /** @type {Map<string, string[]>} */
      const owners = new Map();
      for (const description of group.members) {
        const memberUrl =
          AssignerProtocol.MemberMetadata.decode(description.memberMetadata)?.userData.toString() ?? '?';
        const assigned =
          AssignerProtocol.MemberAssignment.decode(description.memberAssignment)?.assignment ?? {};
        for (const [topic, partitions] of Object.entries(assigned)) {
          for (const partition of partitions) {
            const key = `${topic}/${partition}`;
            owners.set(key, [...(owners.get(key) ?? []), memberUrl].sort());
          }
        }
      }
      member.owners = owners;
      member.generations++;
    });
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [KEYED, BROADCAST], fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachMessage: ({ topic, partition, message }) => {
      member.received.push({ topic, partition, key: message.key?.toString() ?? '' });
      return Promise.resolve();
    },
  });
  return member;
}

/** @typedef {Awaited<ReturnType<typeof startMember>>} Member */

/**
 * Produces `users` keyed records and `broadcasts` broadcast records, and checks that each keyed
 * record reached exactly its partition's owner, and each broadcast every member.
 * @param {import('kafkajs').Producer} producer @param {Member[]} members @param {string} round
 */
async function round(producer, members, round) {
  for (const member of members) member.received = [];
  const users = Array.from({ length: 60 }, (_, i) => `${round}-u${i}`);
  await producer.send({ topic: KEYED, messages: users.map((key) => ({ key, value: '{}' })) });
  await producer.send({ topic: BROADCAST, messages: [1, 2, 3, 4].map((i) => ({ value: String(i) })) });
  await waitFor(
    () =>
      members.reduce((sum, m) => sum + m.received.filter((r) => r.topic === KEYED).length, 0) >=
        users.length && members.every((m) => m.received.filter((r) => r.topic === BROADCAST).length >= 4),
    `round ${round} to arrive`,
  );
  /** @type {Map<string, Array<{ url: string, partition: number }>>} */
  const keyedTo = new Map();
  for (const member of members) {
    for (const record of member.received.filter((r) => r.topic === KEYED)) {
      keyedTo.set(record.key, [
        ...(keyedTo.get(record.key) ?? []),
        { url: member.url, partition: record.partition },
      ]);
    }
  }
  const maps = members.map((m) => JSON.stringify([...m.owners.entries()].sort()));
  /** @type {Map<string, string[]>} */
  const ownersOf = members[0]?.owners ?? new Map();
  return {
    members: members.map((m) => m.url),
    keyedPartitionsPerMember: Object.fromEntries(
      members.map((m) => [
        m.url,
        [...new Set(m.received.filter((r) => r.topic === KEYED).map((r) => r.partition))].sort(
          (a, b) => a - b,
        ),
      ]),
    ),
    broadcastsPerMember: Object.fromEntries(
      members.map((m) => [m.url, m.received.filter((r) => r.topic === BROADCAST).length]),
    ),
    everyKeyedRecordOnce: users.every((user) => keyedTo.get(user)?.length === 1),
    keyedRecordsAtTheOwnerTheMapNames: users.every((user) => {
      const [hit] = keyedTo.get(user) ?? [];
      return (
        hit !== undefined &&
        JSON.stringify(ownersOf.get(`${KEYED}/${hit.partition}`)) === JSON.stringify([hit.url])
      );
    }),
    everyMemberSeesTheSameMap: maps.every((map) => map === maps[0]),
    broadcastPartitionsOwnedByAll: [0, 1].every(
      (p) => (ownersOf.get(`${BROADCAST}/${p}`) ?? []).length === members.length,
    ),
  };
}

async function main() {
  let brokers = splitList(process.env.KAFKA_BROKERS);
  /** @type {EmbeddedKafka | undefined} */
  let embedded;
  if (brokers.length === 0) {
    embedded = await EmbeddedKafka.start();
    brokers = embedded.brokers;
  }
  /** @type {Member[]} */
  const members = [];
  const kafka = new Kafka({ brokers, clientId: 'owner-exp-producer', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await ensureTopics(brokers, [KEYED], 6);
    await ensureTopics(brokers, [BROADCAST], 2);
    await producer.connect();
    for (const url of ['http://gw-a', 'http://gw-b', 'http://gw-c'])
      members.push(await startMember(brokers, url));
    const settled = (/** @type {Member[]} */ group) =>
      waitFor(
        () =>
          group.every(
            (m) => new Set([...m.owners.values()].flat()).size === group.length && m.owners.size === 8,
          ),
        `${group.length} members to share the group`,
      );
    await settled(members);
    const three = await round(producer, members, 'three');
    // One instance leaves (a rolling deploy, a crash after its session times out): the rest take over.
    const leaver = /** @type {Member} */ (members.pop());
    const generationsBefore = members.map((m) => m.generations);
    await leaver.consumer.disconnect();
    await waitFor(
      () => members.every((m, i) => m.generations > (generationsBefore[i] ?? 0)),
      'the rebalance',
    );
    await settled(members);
    const two = await round(producer, members, 'two');
    const result = { kafka: embedded ? 'embedded' : brokers.join(','), three, afterOneLeft: two };
    console.log(JSON.stringify(result, null, 2));
    const checks = [three, two].flatMap((r) => [
      r.everyKeyedRecordOnce,
      r.keyedRecordsAtTheOwnerTheMapNames,
      r.everyMemberSeesTheSameMap,
      r.broadcastPartitionsOwnedByAll,
      Object.values(r.broadcastsPerMember).every((n) => n === 4),
    ]);
    console.log(checks.every(Boolean) ? 'all checks passed' : 'SOME CHECKS FAILED');
    if (!checks.every(Boolean)) process.exitCode = 1;
  } finally {
    await Promise.all(members.map((m) => m.consumer.disconnect().catch(() => undefined)));
    await producer.disconnect().catch(() => undefined);
    await embedded?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
