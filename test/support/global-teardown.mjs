// @ts-check
export default async function globalTeardown() {
  const { __embeddedKafka: kafka } =
    /** @type {{ __embeddedKafka?: import('../../scripts/embedded-kafka.mjs').EmbeddedKafka }} */ (
      /** @type {unknown} */ (globalThis)
    );
  await kafka?.stop();
}
