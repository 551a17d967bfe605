// @ts-check
/**
 * Who spent the CPU: the targets, the load clients, this harness (which produces), the Kafka broker
 * and the whole machine, from /proc, between two marks; and the figures of a scenario that
 * delivers events (rates, latency, CPU per delivery, write calls per delivery).
 */
import { readFileSync } from 'node:fs';
import { cpuSecondsOf } from './processes.mjs';
import { round } from './session.mjs';
import { monotonicMs } from './stats.mjs';

/**
 * CPU time of the whole machine, in seconds, from /proc/stat: busy (user, nice, system, irq,
 * softirq), stolen by the hypervisor, and the total.
 */
export function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy: busy / 100, steal: steal / 100, total: (busy + idle + iowait + steal) / 100 };
  } catch {
    return { busy: NaN, steal: NaN, total: NaN };
  }
}

/** CPU seconds of a process, NaN when it cannot be read. @param {number | undefined} pid */
function cpuOrNaN(pid) {
  try {
    return pid === undefined ? NaN : cpuSecondsOf(pid);
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of a load's client processes (those that exited count nothing).
 * @param {import('./load.mjs').Load} load
 */
export function loadCpuSeconds(load) {
  let total = 0;
  for (const client of load.clients) total += cpuOrNaN(client.child.pid) || 0;
  return total;
}

/**
 * @typedef {{ cpuSeconds(): number, io(): { writeCalls: number, writtenBytes: number } }} Measured
 * @typedef {ReturnType<typeof cpuMarks>} CpuMarks
 */

/**
 * CPU time used so far by each target, the load clients, this harness, the Kafka broker and the
 * whole machine; and the targets' write calls.
 * @param {{ targets: Measured[], loads: Array<import('./load.mjs').Load>, kafkaPid: number | undefined }} who
 */
export function cpuMarks({ targets, loads, kafkaPid }) {
  const harness = process.cpuUsage();
  return {
    targets: targets.map((target) => target.cpuSeconds()),
    targetIo: targets.map((target) => target.io()),
    load: loads.reduce((sum, load) => sum + loadCpuSeconds(load), 0),
    harness: (harness.user + harness.system) / 1e6,
    kafka: cpuOrNaN(kafkaPid),
    machine: machineCpu(),
  };
}

/**
 * CPU between two marks taken `wall` seconds apart: seconds per target, and each share in percent
 * (100% = one core, except the machine's: 100% = every core busy).
 * @param {CpuMarks} before
 * @param {CpuMarks} after
 * @param {number} wall
 */
export function cpuBetween(before, after, wall) {
  const percentOf = (/** @type {number} */ used) => round((used / wall) * 100, 1);
  const targets = after.targets.map((seconds, i) => seconds - (before.targets[i] ?? 0));
  const targetsTotal = targets.reduce((sum, seconds) => sum + seconds, 0);
  const load = after.load - before.load;
  const harness = after.harness - before.harness;
  const kafka = after.kafka - before.kafka;
  const machineTotal = after.machine.total - before.machine.total;
  const machineBusy = after.machine.busy - before.machine.busy;
  const known = targetsTotal + load + harness + (Number.isFinite(kafka) ? kafka : 0);
  return {
    targets,
    loadClientsCpuPercent: percentOf(load),
    harnessCpuPercent: percentOf(harness),
    kafkaCpuPercent: percentOf(kafka),
    /** Of all cores: 100% means every core was busy (targets, clients, harness, Kafka, the rest). */
    machineCpuPercent: machineTotal > 0 ? round((machineBusy / machineTotal) * 100, 1) : NaN,
    /**
     * Busy CPU not used by the targets, the clients, the harness or Kafka: the kernel's network
     * work outside those processes, and any other process on the machine (100% = one core).
     */
    otherCpuPercent: percentOf(Math.max(0, machineBusy - known)),
    machineStealPercent:
      machineTotal > 0 ? round(((after.machine.steal - before.machine.steal) / machineTotal) * 100, 1) : NaN,
  };
}

/**
 * Figures common to the scenarios that deliver events to one target. Deliveries/s are counted from
 * the first record produced to the last receipt; CPU over the whole scenario, producing and draining.
 * @param {import('./targets.mjs').Context} ctx
 * @param {{ t0: number, produced: number, expected: number, complete: boolean, cpu: CpuMarks,
 *   producedUntil: number }} run
 */
export async function deliveryFigures(ctx, run) {
  const now = ctx.cpuMarks();
  const wall = Math.max(1e-3, (monotonicMs() - run.t0) / 1000);
  const cpu = cpuBetween(run.cpu, now, wall);
  const targetCpu = cpu.targets[0] ?? NaN;
  const stats = await ctx.load.stats();
  const end = stats.lastAt ?? monotonicMs();
  const seconds = Math.max(1e-3, (end - run.t0) / 1000);
  const io = (/** @type {CpuMarks} */ marks) => marks.targetIo[0] ?? { writeCalls: NaN, writtenBytes: NaN };
  return {
    events: run.produced,
    expectedDeliveries: run.expected,
    deliveries: stats.delivered,
    complete: run.complete && stats.delivered >= run.expected,
    seconds: round(seconds, 3),
    producedPerSecond: round(run.produced / Math.max(1e-3, (run.producedUntil - run.t0) / 1000), 1),
    eventsPerSecond: round(
      (run.produced * Math.min(1, stats.delivered / Math.max(1, run.expected))) / seconds,
      1,
    ),
    deliveriesPerSecond: round(stats.delivered / seconds, 1),
    latency: stats.histogram.summary(),
    targetCpuSeconds: round(targetCpu, 2),
    targetCpuPercent: round((targetCpu / wall) * 100, 1),
    targetCpuMicrosPerDelivery: stats.delivered > 0 ? round((targetCpu * 1e6) / stats.delivered, 2) : NaN,
    loadClientsCpuPercent: cpu.loadClientsCpuPercent,
    harnessCpuPercent: cpu.harnessCpuPercent,
    kafkaCpuPercent: cpu.kafkaCpuPercent,
    machineCpuPercent: cpu.machineCpuPercent,
    otherCpuPercent: cpu.otherCpuPercent,
    machineStealPercent: cpu.machineStealPercent,
    /** write/writev system calls the target made per delivery (/proc/<pid>/io syscw). */
    targetWriteCallsPerDelivery:
      stats.delivered > 0 ? round((io(now).writeCalls - io(run.cpu).writeCalls) / stats.delivered, 3) : NaN,
    targetBytesWrittenPerDelivery:
      stats.delivered > 0
        ? round((io(now).writtenBytes - io(run.cpu).writtenBytes) / stats.delivered, 1)
        : NaN,
  };
}

/** @typedef {Awaited<ReturnType<typeof deliveryFigures>>} DeliveryFigures */
