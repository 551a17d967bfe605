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

/** @returns {string[]} */
function leftovers() {
  const handles = /** @type {{ _getActiveHandles(): unknown[] }} */ (/** @type {unknown} */ (process))._getActiveHandles();
  return handles
    .filter((handle) => handle !== process.stdout && handle !== process.stderr && handle !== process.stdin)
    .map((handle) => {
      const any = /** @type {any} */ (handle);
      const name = any?.constructor?.name ?? typeof handle;
      if (any?.spawnargs) return `${name} pid ${any.pid}: ${any.spawnargs.join(' ').slice(0, 160)}`;
      if (typeof any?.remotePort === 'number') return `${name} ${any.localPort} -> ${any.remoteAddress}:${any.remotePort}`;
      if (typeof any?.address === 'function') return `${name} listening ${JSON.stringify(any.address())}`;
      if (typeof any?._onTimeout === 'function') return `${name} ${String(any._onTimeout).slice(0, 120)}`;
      return name;
    });
}
