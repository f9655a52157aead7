/**
 * `sockkit echo` with fault flags: the echo service with a FaultPlan between what a client sends
 * and what comes back, and the faults injected listed in the shutdown summary.
 */
import type { Command } from 'commander';
import {
  DatagramFaults,
  type FaultPlan,
  newFaultCounts,
  parseAddress,
  type Service,
  StreamFaults,
  services,
} from '../../index.js';
import { checkFaultsApply, describeFaults, faultSummary } from '../options/faults.js';
import { warn } from '../run.js';
import { runService, type ServiceRunOptions } from './serve.js';

/**
 * echoWithFaults runs the echo service on `urls` as `sockkit echo` does, with `plan`'s stream
 * faults on tcp, tls and unix connections and its datagram faults on udp. It prints the plan and
 * its seed when it starts, and what it injected when it stops.
 */
export async function echoWithFaults(
  plan: FaultPlan,
  urls: readonly string[],
  options: ServiceRunOptions,
  command: Command,
): Promise<void> {
  checkFaultsApply(
    'echo',
    plan,
    urls.map((url) => parseAddress(url).scheme),
  );
  const counts = newFaultCounts();
  const streamFaults = new StreamFaults(plan, { counts });
  // One seed for both kinds, so the line printed at the start repeats the whole run.
  const datagramFaults = new DatagramFaults({ ...plan, seed: streamFaults.seed }, { counts });
  warn(describeFaults(plan, streamFaults.seed));
  const faulty: Service = {
    ...services.echo,
    stream: streamFaults.echo,
    datagram: datagramFaults.service(services.echo.datagram),
  };
  try {
    await runService('echo', faulty, urls, options, command);
  } finally {
    datagramFaults.close();
  }
  warn(faultSummary(plan, counts, streamFaults.seed));
}
