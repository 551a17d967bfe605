// @ts-check
/** Stops the suite's broker, then names what the tests left running (it would keep Jest alive). */
export default async function globalTeardown() {
  const { __embeddedKafka: kafka } =
    /** @type {{ __embeddedKafka?: import('../../scripts/embedded-kafka.mjs').EmbeddedKafka }} */ (
      /** @type {unknown} */ (globalThis)
    );
  await kafka?.stop();
  const left = leftovers();
  if (left.length > 0) console.warn(`\nLeft running after the e2e suite:\n  ${left.join('\n  ')}`);
}

/**
 * The fields of Node's handles that say what one is.
 * @typedef {{
 *   constructor?: { name?: string },
 *   pid?: number,
 *   exitCode?: number | null,
 *   signalCode?: string | null,
 *   spawnargs?: string[],
 *   localPort?: number,
 *   remoteAddress?: string,
 *   remotePort?: number,
 *   address?: () => unknown,
 *   _onTimeout?: () => void,
 * }} Handle
 */

/** @returns {string[]} */
function leftovers() {
  const active = /** @type {{ _getActiveHandles(): Handle[] }} */ (/** @type {unknown} */ (process));
  const std = new Set(/** @type {unknown[]} */ ([process.stdout, process.stderr, process.stdin]));
  return (
    active
      ._getActiveHandles()
      .filter((handle) => !std.has(handle))
      // A process that has exited keeps its handle until its pipes close: it is not left running.
      .filter((handle) => !(typeof handle.exitCode === 'number' || typeof handle.signalCode === 'string'))
      .map((handle) => {
        const name = handle.constructor?.name ?? 'handle';
        if (handle.spawnargs) return `${name} pid ${handle.pid}: ${handle.spawnargs.join(' ').slice(0, 160)}`;
        if (typeof handle.remotePort === 'number')
          return `${name} ${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
        if (typeof handle.address === 'function')
          return `${name} listening ${JSON.stringify(handle.address())}`;
        if (typeof handle._onTimeout === 'function')
          return `${name} ${String(handle._onTimeout).slice(0, 120)}`;
        return name;
      })
  );
}
