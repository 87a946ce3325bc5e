// SPDX-License-Identifier: MIT
// Usage: node check-page.js NODE_MODULES PAGE_URL USER_DATA_DIR
//
// Opens the page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), waits until it is connected and shows the LED's and the
// button's state, clicks "Toggle the LED" and waits until the LED's state
// shown changes. Prints what it saw, one "key: value" a line; exits 1 on any
// failure or when a step takes longer than its limit.
'use strict';

const [modules, pageUrl, userDataDir] = process.argv.slice(2);
const { chromium } = require(`${modules}/playwright-core`);

const STEP_MS = 30000;
const started = Date.now();
const say = (key, value) => console.log(`${key}: ${value}`);
const stateShown = (id) => `["ON", "OFF"].includes(document.getElementById("${id}").textContent)`;

async function run(page) {
  await page.goto(pageUrl, { timeout: STEP_MS });
  await page.waitForFunction('document.getElementById("connection").textContent === "connected"',
    null, { timeout: STEP_MS });
  say('connected after ms', Date.now() - started);
  await page.waitForFunction(`${stateShown('led')} && ${stateShown('button')}`, null,
    { timeout: STEP_MS });
  const before = await page.textContent('#led');
  say('button', await page.textContent('#button'));
  say('led before', before);
  await page.click('#toggle', { timeout: STEP_MS });
  await page.waitForFunction(
    `${stateShown('led')} && document.getElementById("led").textContent !== "${before}"`,
    null, { timeout: STEP_MS });
  say('led after', await page.textContent('#led'));
}

(async () => {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: STEP_MS * 2,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  say('browser started after ms', Date.now() - started);
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (msg) => say('console', msg.text()));
  let status = 0;
  try {
    await run(page);
  } catch (err) {
    say('error', err.message.split('\n')[0]);
    say('page', (await page.textContent('body').catch(() => '?')).replace(/\s+/g, ' '));
    status = 1;
  }
  await context.close();
  say('done after ms', Date.now() - started);
  process.exit(status);
})().catch((err) => {
  say('error', err.message);
  process.exit(1);
});
