/**
 * The browser the chat tests drive: Debian's headless Chromium through playwright-core. The tests
 * never download a browser; without /usr/bin/chromium they are skipped with the reason.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** CHROMIUM is Debian's chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** NO_CHROMIUM is false when Chromium is installed, or the reason to skip a browser test. */
export const NO_CHROMIUM: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (apt-get install chromium)`;

/**
 * launchChromium starts headless Chromium, quiet on the network (no QUIC, no background
 * requests), with `extraArgs` after the defaults.
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
