import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's chromium driven by playwright-core: the browser comes from the system's packages
 * (`apt-get install chromium`, done by .ci/run), never from a download at test time.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Without the background-networking flags chromium keeps dialling Google's hosts, which this
// machine's closed network refuses.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}
