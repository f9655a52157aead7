'use strict';
// sockkit-udp-batch: loads the compiled addon. Throws when it was not built (no compiler, or not
// Linux); sockkit then stays on Node's dgram path.
module.exports = require('./build/Release/udp_batch.node');
