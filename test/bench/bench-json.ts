/** benchJson runs `sockkit bench ARGS --json` for the request/response tests and parses its summary. */
import assert from 'node:assert/strict';
import { runCli } from '../helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked field by field in the tests
export type Json = Record<string, any>;

/** benchJson runs `sockkit bench ARGS --json` and returns the summary, the exit code and stderr. */
export async function benchJson(
  args: readonly string[],
): Promise<{ summary: Json; code: number | null; stderr: string }> {
  const result = await runCli(['bench', ...args, '--json'], { timeout: 9000 });
  const lines = result.stdout.toString().trim().split('\n');
  const summary = JSON.parse(lines.at(-1) as string) as Json;
  assert.equal(summary.type, 'summary', result.stderr);
  return { summary, code: result.code, stderr: result.stderr };
}
