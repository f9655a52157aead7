import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HopStatistics } from '../../src/raw/hop-statistics.js';

test('a hop reports loss, last, average, best, worst, standard deviation and jitter', () => {
  const hop = new HopStatistics(2);
  hop.add({ address: '10.0.0.1', rtt: 1 });
  hop.add();
  hop.add({ address: '10.0.0.1', rtt: 3 });
  hop.add({ address: '10.0.0.9', rtt: 2 });
  const summary = hop.summary();
  assert.deepEqual(
    { ...summary, stdev: Number(summary.stdev?.toFixed(6)) },
    {
      ttl: 2,
      address: '10.0.0.1',
      addresses: ['10.0.0.1', '10.0.0.9'],
      sent: 4,
      received: 3,
      loss: 25,
      last: 2,
      avg: 2,
      best: 1,
      worst: 3,
      stdev: Number(Math.sqrt(2 / 3).toFixed(6)),
      // |3 - 1| and |2 - 3|, averaged.
      jitter: 1.5,
    },
  );
});

test('a hop that never answered is 100% loss with no times', () => {
  const hop = new HopStatistics(3);
  hop.add();
  hop.add();
  assert.deepEqual(hop.summary(), { ttl: 3, addresses: [], sent: 2, received: 0, loss: 100 });
  assert.equal(new HopStatistics(1).summary().loss, 0);
});
