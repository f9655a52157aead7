/**
 * Namespaces a killed test process left behind are removed by the next run; those of a process
 * still running are kept. A stress run stopped by a signal left skA/skR/skB namespaces that
 * nothing removed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { removeStaleNamespaces, whyNoNamespaces } from './netns.js';

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '');
}

test('the namespaces of a test process that is gone are removed, those of a live one kept', {
  skip: whyNoNamespaces(),
  timeout: 8000,
}, () => {
  const gone = spawnSync('true').pid; // a process that has exited: its id names no live process
  const stale = `skZ${gone}x1`;
  const live = `skZ${process.pid}x99`;
  try {
    for (const ns of [stale, live]) execFileSync('ip', ['netns', 'add', ns]);
    removeStaleNamespaces();
    const left = namespaces();
    assert.equal(left.includes(stale), false, `${stale} is still there`);
    assert.equal(left.includes(live), true, `${live} was removed`);
  } finally {
    for (const ns of [stale, live]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
});
