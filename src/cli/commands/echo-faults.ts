/**
 * `sockkit echo` with fault flags: the echo service with faults between what a client sends and
 * what comes back, and the faults injected listed in the shutdown summary.
 */
import type { Command } from 'commander';
import { type Service, services } from '../../index.js';
import type { FaultInjection } from '../options/faults.js';
import { warn } from '../run.js';
import { runService, type ServiceRunOptions } from './serve.js';

/**
 * echoWithFaults runs the echo service on `urls` as `sockkit echo` does, with the stream faults on
 * tcp, tls and unix connections and the datagram faults on udp. It prints the faults and their
 * seed when it starts, and what it injected when it stops.
 */
export async function echoWithFaults(
  faults: FaultInjection,
  urls: readonly string[],
  options: ServiceRunOptions,
  command: Command,
): Promise<void> {
  warn(faults.announcement);
  const faulty: Service = {
    ...services.echo,
    stream: faults.streams.echo,
    datagram: faults.datagrams.service(services.echo.datagram),
  };
  try {
    await runService('echo', faulty, urls, options, command);
  } finally {
    faults.close();
  }
  warn(faults.summary());
}
