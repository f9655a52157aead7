import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadPlan } from '../../src/bench/load.js';
import { SendSchedule } from '../../src/bench/send-schedule.js';

/** A plan with only what a schedule reads: rate, duration, connections and the first one's number. */
function plan(rate: number, duration: number, connections: number): LoadPlan {
  return { rate, duration, connections, firstConnection: 0 } as LoadPlan;
}

test('the open-loop timetable interleaves connections and ends with the run, however late it is stopped', () => {
  // 200 messages a second over 2 connections for 1 s: each sends every 10 ms, the second 5 ms later.
  const first = new SendSchedule(plan(200, 1000, 2), 0);
  const second = new SendSchedule(plan(200, 1000, 2), 1);
  first.start(0);
  second.start(0);
  assert.equal(first.period, 10);
  assert.equal(first.due(0), 1);
  assert.equal(second.due(0), 0);
  assert.equal(second.due(5), 1);
  assert.equal(first.intended(3), 30);
  assert.equal(second.intended(3), 35);
  assert.equal(first.due(990), 100);
  // A run stopped 0.5 s late (a busy machine) still holds 100 messages per connection: 200, as the rate says.
  assert.equal(first.due(1500), 100);
  assert.equal(second.due(1500), 100);
});

test('a connection whose first message falls after the run is up sends none', () => {
  // 1 message a second over 4 connections for 500 ms: connections 1 to 3 would start at 1 s, 2 s, 3 s.
  const late = new SendSchedule(plan(1, 500, 4), 2);
  late.start(0);
  assert.equal(late.due(10_000), 0);
  const closed = new SendSchedule(plan(0, 500, 4), 0);
  assert.equal(closed.isOpenLoop, false);
});
