/**
 * Preloaded with `node --import` to make the `sockkit-udp-batch` addon look missing, as on a
 * machine where it could not be built: sockkit loads it with `require`, and every attempt to
 * resolve it fails as a missing module does (MODULE_NOT_FOUND).
 */
import { createRequire } from 'node:module';

const ADDON = 'sockkit-udp-batch';
type Resolve = (request: string, ...rest: unknown[]) => string;
const Module = createRequire(import.meta.url)('node:module') as { _resolveFilename: Resolve };
const resolve = Module._resolveFilename;
Module._resolveFilename = function hidden(this: unknown, request, ...rest) {
  if (request === ADDON)
    throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
