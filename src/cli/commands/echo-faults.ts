/**
 * The echo service with faults between what a client sends and what comes back (`sockkit echo
 * --delay 200ms`, `sockkit serve echo --loss 5%`).
 */
import { type Service, services, UsageError } from '../../index.js';
import type { FaultInjection } from '../options/faults.js';

/**
 * faultyService returns `service` with `faults` in it: the stream faults on tcp, tls and unix
 * connections and the datagram faults on udp. Only the echo service takes faults (a UsageError
 * for another), and only in one process (a UsageError with `--workers`).
 */
export function faultyService(faults: FaultInjection, service: Service, workers: number): Service {
  if (service !== services.echo)
    throw new UsageError(service.name, 'faults are injected into the echo service only (sockkit echo)');
  if (workers > 1)
    throw new UsageError('--workers', 'faults are injected in one process: drop --workers or the faults');
  return {
    ...services.echo,
    stream: faults.streams.echo,
    datagram: faults.datagrams.service(services.echo.datagram),
  };
}
