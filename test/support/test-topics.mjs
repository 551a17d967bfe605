// @ts-check
/** The topics the e2e suite's gateways are configured with; global setup creates them. */
export const TEST_TOPICS = ['notifications', 'orders', 'chat'];
