// @ts-check
export default async function globalTeardown() {
  await /** @type {any} */ (globalThis).__embeddedKafka?.stop();
}
