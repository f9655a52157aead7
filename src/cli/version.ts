/** VERSION is sockkit's version, read from package.json (dist/src/cli/ is three folders below it). */
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
