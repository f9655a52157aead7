import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { checkFaultPlan, hasDatagramFaults, hasStreamFaults } from '../../src/faults/fault-plan.js';

test('checkFaultPlan returns a plan whose values can all work', () => {
  const plan = {
    delay: 100,
    jitter: 20,
    throttle: 1000,
    slice: 1,
    resetAfter: { bytes: 0 },
    closeAfter: { ms: 2000 },
    loss: 0,
    duplicate: 1,
    seed: 0,
  };
  assert.equal(checkFaultPlan(plan), plan);
});

test('a value that cannot work is a UsageError naming the option', () => {
  const cases: [object, RegExp][] = [
    [{ delay: -1 }, /^faults: delay -1: expected a whole number of ms from 0 to 600000$/],
    [{ jitter: 1.5 }, /^faults: jitter 1\.5: /],
    [{ throttle: 0 }, /^faults: throttle 0: expected a whole number of bytes per second from 1 /],
    [{ slice: 0 }, /^faults: slice 0: /],
    [{ resetAfter: { bytes: -5 } }, /^faults: resetAfter -5: /],
    [{ closeAfter: { ms: 1e12 } }, /^faults: closeAfter 1000000000000: .* from 0 to 86400000$/],
    [{ loss: 1.5 }, /^faults: loss 1\.5: expected a fraction from 0 to 1$/],
    [{ duplicate: Number.NaN }, /^faults: duplicate NaN: /],
    [{ seed: -1 }, /^faults: seed -1: expected a whole number from 0 to /],
  ];
  for (const [plan, message] of cases) {
    assert.throws(
      () => checkFaultPlan(plan),
      (err: unknown) => err instanceof UsageError && err.code === 'ERR_USAGE' && message.test(err.message),
      JSON.stringify(plan),
    );
  }
});

test('hasStreamFaults and hasDatagramFaults tell which kinds a plan touches', () => {
  assert.equal(hasStreamFaults({ slice: 4 }), true);
  assert.equal(hasDatagramFaults({ slice: 4 }), false);
  assert.equal(hasDatagramFaults({ loss: 0.1 }), true);
  assert.equal(hasStreamFaults({ loss: 0.1 }), false);
  assert.equal(hasStreamFaults({ delay: 5 }) && hasDatagramFaults({ delay: 5 }), true);
  assert.equal(hasStreamFaults({ seed: 5 }) || hasDatagramFaults({ seed: 5 }), false);
  assert.equal(hasStreamFaults({ delay: 0 }), false);
});
