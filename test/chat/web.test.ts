import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { hostPort, type Running, startCli } from '../helpers.js';
import { launchChromium, NO_CHROMIUM } from './browser.js';
import { LineUser } from './line-user.js';

/** join opens the chat page in a new browser page and joins as `nick`. */
async function join(browser: Browser, url: string, nick: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.fill('#nick', nick);
  await page.click('#join button');
  await page.waitForSelector('#text', { state: 'visible' });
  return page;
}

/** say types `text` into the page's message box and sends it. */
async function say(page: Page, text: string): Promise<void> {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** seen waits until the page's chat log shows a line equal to `line`. */
async function seen(page: Page, line: string): Promise<void> {
  await page.waitForFunction(
    (wanted) => [...document.querySelectorAll('#log div')].some((row) => row.textContent === wanted),
    line,
    { timeout: 8000 },
  );
}

describe('the chat web page, in headless Chromium', {
  skip: NO_CHROMIUM,
  timeout: 30_000,
}, () => {
  let server: Running;
  let browser: Browser;
  let web: string;
  let port: number;
  before(async () => {
    server = await startCli(['chat', 'serve', 'tcp://127.0.0.1:0', '--web', '0'], { listens: 2 });
    port = hostPort(server.urls[0] as string).port;
    web = `http://127.0.0.1:${hostPort(server.urls[1] as string).port}/`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    const result = await server?.stop();
    assert.equal(result?.code, 0, result?.stderr);
  });

  test('two browser users and one nc user talk in the same room', async () => {
    const ann = await join(browser, web, 'ann');
    const ben = await join(browser, web, 'ben');
    await seen(ann, '* ben joined #lobby');
    assert.equal(await ann.textContent('#status'), '· connected as ann');
    const nc = LineUser.ncat('127.0.0.1', String(port));
    nc.say('/nick carl');
    await seen(ben, '* guest1 is now known as carl');

    await say(ann, 'hi from a browser');
    await seen(ben, '<ann> hi from a browser');
    assert.equal(await nc.next(/^<ann>/), '<ann> hi from a browser');
    await seen(ann, '<me> hi from a browser'); // the page shows its own line

    nc.say('hello from nc <b>not bold</b>');
    await seen(ann, '<carl> hello from nc <b>not bold</b>');
    await seen(ben, '<carl> hello from nc <b>not bold</b>');
    assert.equal(await ann.locator('#log b').count(), 0, 'a message is text, never markup');

    await say(ben, '/who');
    await seen(ben, '* #lobby: ann, ben, carl');
    await say(ben, '/msg carl psst');
    assert.equal(await nc.next(/^\*ben\*/), '*ben* psst');

    await ben.close();
    assert.equal(await nc.next(/^\* ben left/), '* ben left #lobby (connection closed)');
    await seen(ann, '* ben left #lobby (connection closed)');
    nc.quit();
    await ann.close();
  });

  test('the page opened as http://localhost:PORT/ joins too: its origin is the one it was served under', async () => {
    const page = await join(browser, web.replace('127.0.0.1', 'localhost'), 'lou');
    const nc = LineUser.ncat('127.0.0.1', String(port));
    try {
      await nc.next(/^\* welcome/);
      await say(page, 'hello from localhost');
      assert.equal(await nc.next(/^<lou>/), '<lou> hello from localhost');
      assert.doesNotMatch(server.stderr(), /refused/);
    } finally {
      nc.quit();
      await page.close();
    }
  });

  test('the page is served with a content security policy, and other paths are 404', async () => {
    const page = await fetch(web);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /<title>sockkit chat<\/title>/);
    assert.equal((await fetch(`${web}nope`)).status, 404);
  });
});
