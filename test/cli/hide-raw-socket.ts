/**
 * Preloaded with `node --import` to make the `raw-socket` addon look missing, as on a machine
 * where it could not be built: every attempt to import it fails as a missing module would.
 */
import { register } from 'node:module';

register(new URL('./hide-raw-socket-hooks.js', import.meta.url));
