import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, when the machine has one; CHROMIUM_PATH names another. */
const SYSTEM_CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What every launch needs here: no sandbox (root in CI), no GPU, no background traffic. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A real headless Chromium. The system's is preferred; otherwise the one inside the npm package
 * @sparticuz/chromium (a headless-shell build, unpacked from the package into the temp folder on
 * first use: no download, no apt). Playwright never downloads a browser here.
 */
export async function launchChromium(): Promise<Browser> {
  if (existsSync(SYSTEM_CHROMIUM)) return chromium.launch({ executablePath: SYSTEM_CHROMIUM, args: ARGS });
  const { default: packaged } = await import('@sparticuz/chromium');
  // Its headless shell runs without the zygote process, which needs a sandbox here.
  return chromium.launch({ executablePath: await packaged.executablePath(), args: [...ARGS, '--no-zygote'] });
}
