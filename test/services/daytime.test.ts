import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from '../../src/datagram/request.js';
import { daytimeLine } from '../../src/services/daytime.js';
import { services } from '../../src/services/index.js';
import { readAll, serveBoth } from './serve-both.js';

const daytime = services.daytime;
const linePattern = /^(\w+day), (\w+) (\d{1,2}), (\d{4}) (\d\d):(\d\d):(\d\d)-UTC\r\n$/;

/** parse reads a daytime line back into a Date, checking its weekday. */
function parse(line: string): Date {
  const match = linePattern.exec(line);
  assert.ok(match, `not a daytime line: ${JSON.stringify(line)}`);
  const [, weekday, month, day, year, hh, mm, ss] = match;
  const date = new Date(`${month} ${day}, ${year} ${hh}:${mm}:${ss} UTC`);
  assert.equal(date.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' }), weekday);
  return date;
}

test('daytimeLine follows RFC 867 example syntax, "Weekday, Month Day, Year HH:MM:SS-Zone", CR LF', () => {
  assert.equal(daytimeLine(new Date('1982-02-22T17:37:43Z')), 'Monday, February 22, 1982 17:37:43-UTC\r\n');
  assert.equal(daytimeLine(new Date('2026-11-24T09:05:01Z')), 'Tuesday, November 24, 2026 09:05:01-UTC\r\n');
});

test('over TCP the server sends one daytime line for now, then closes, ignoring what the client sends', async () => {
  const running = await serveBoth(daytime);
  try {
    const before = wholeSecond();
    const reply = (await readAll(running.tcp, 'ignored input\n')).toString('latin1');
    assertWithin(parse(reply), before, Date.now());
  } finally {
    await running.stop();
  }
});

test('over TCP the line comes and the server half-closes even while the client keeps its side open', async () => {
  const running = await serveBoth(daytime);
  try {
    const reply = (await readAll(running.tcp, '', true)).toString('latin1');
    assert.match(reply, linePattern);
  } finally {
    await running.stop();
  }
});

test('over UDP each datagram is answered with one datagram holding the line', async () => {
  const running = await serveBoth(daytime);
  try {
    const before = wholeSecond();
    const { data } = await request(running.udp, 'x');
    assertWithin(parse(data.toString('latin1')), before, Date.now());
  } finally {
    await running.stop();
  }
});

/** wholeSecond is now, rounded down to the second the line names (it has no fractions). */
function wholeSecond(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

/** assertWithin checks the server's clock reading was taken between the request and the reply. */
function assertWithin(at: Date, before: number, after: number): void {
  assert.ok(
    at.getTime() >= before && at.getTime() <= after,
    `${at.toISOString()} not within [${before}, ${after}]`,
  );
}
