/**
 * Test certificates made with the real `openssl` command into a temporary folder: a CA, a server
 * certificate it signs (localhost, 127.0.0.1, ::1), one for the wrong host, an expired one, a
 * self-signed one, and client certificates from the CA and from a stranger CA (for mutual TLS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type Running, startCli, tempDir } from '../helpers.js';

/** TestCerts holds the paths of every file `makeTestCerts` made. */
export interface TestCerts {
  readonly dir: string;
  readonly caCert: string;
  readonly server: { cert: string; key: string };
  readonly wrongHost: { cert: string; key: string };
  readonly expired: { cert: string; key: string };
  readonly selfSigned: { cert: string; key: string };
  readonly client: { cert: string; key: string };
  readonly strangerClient: { cert: string; key: string };
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** makeTestCerts makes the certificates (EC P-256 keys, fast) in a new temporary folder. */
export function makeTestCerts(): TestCerts {
  const tmp = tempDir();
  const dir = tmp.path;
  const key = (name: string) =>
    openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  const ext = (name: string, lines: string) => writeFileSync(join(dir, `${name}.ext`), lines);
  const sign = (name: string, ca: string, cn: string, extLines: string) => {
    key(name);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
    ext(name, extLines);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '30',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
  };
  const makeCa = (name: string, cn: string) => {
    key(name);
    openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '30',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.pem`,
    ]);
  };
  const serverExt = (names: string) =>
    `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${names}\n`;
  makeCa('ca', 'sockkit test CA');
  makeCa('stranger', 'stranger CA');
  sign('server', 'ca', 'localhost', serverExt('DNS:localhost,IP:127.0.0.1,IP:::1'));
  sign('wrong-host', 'ca', 'other.example', serverExt('DNS:other.example'));
  sign('client', 'ca', 'sockkit client', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  sign(
    'stranger-client',
    'stranger',
    'stranger client',
    'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
  );
  // An expired certificate needs dates in the past, which `openssl x509 -days` cannot give:
  // `openssl ca` takes explicit start and end dates.
  key('expired');
  openssl(dir, ['req', '-new', '-key', 'expired.key', '-subj', '/CN=localhost', '-out', 'expired.csr']);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\n` +
      `policy=p\nunique_subject=no\nx509_extensions=x\n[p]\ncommonName=supplied\n` +
      `[x]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n`,
  );
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-keyfile',
    'ca.key',
    '-cert',
    'ca.pem',
    '-in',
    'expired.csr',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200201000000Z',
    '-out',
    'expired.pem',
    '-notext',
  ]);
  key('self-signed');
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'self-signed.key',
    '-subj',
    '/CN=localhost',
    '-days',
    '30',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-out',
    'self-signed.pem',
  ]);
  const pair = (name: string) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    server: pair('server'),
    wrongHost: pair('wrong-host'),
    expired: pair('expired'),
    selfSigned: pair('self-signed'),
    client: pair('client'),
    strangerClient: pair('stranger-client'),
    remove: tmp.remove,
  };
}

/** Peer is a real peer program (openssl, socat) started by a test. */
export interface Peer {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
  /** waitFor resolves with the match once `pattern` appears on its stdout or stderr. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** exited resolves with its exit code once it is gone. */
  readonly exited: Promise<number | null>;
  kill(): Promise<number | null>;
}

/** startPeer runs `command` with `args`; it is killed after `timeout` ms in any case. */
export function startPeer(command: string, args: readonly string[], timeout = 8000): Peer {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let all = '';
  const waiters: (() => void)[] = [];
  const onData = (isOut: boolean) => (chunk: Buffer) => {
    if (isOut) out += chunk.toString('latin1');
    all += chunk.toString('latin1');
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout.on('data', onData(true));
  child.stderr.on('data', onData(false));
  child.stdin.on('error', () => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const wake of waiters.splice(0)) wake();
      resolve(code);
    }),
  );
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  return {
    child,
    stdout: () => out,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = all.match(pattern);
          if (match) resolve(match);
          else if (gone) reject(new Error(`${command} exited before printing ${pattern}: ${all}`));
          else waiters.push(check);
        };
        check();
      }),
    kill: () => {
      if (!gone) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** waitForOutput resolves once `running`'s stderr matches `pattern`, and rejects after `timeout` ms. */
export function waitForOutput(running: Running, pattern: RegExp, timeout = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const stderr = running.child.stderr;
    const timer = setTimeout(() => {
      stderr?.off('data', check);
      reject(new Error(`no ${pattern} on stderr within ${timeout}ms: ${running.stderr()}`));
    }, timeout);
    function check(): void {
      if (!pattern.test(running.stderr())) return;
      clearTimeout(timer);
      stderr?.off('data', check);
      resolve();
    }
    stderr?.on('data', check);
    check();
  });
}

/** TlsFixture is what `useTlsFixture` gives a suite. */
export interface TlsFixture {
  /** The suite's certificates, made before its first test. */
  readonly certs: TestCerts;
  /** echo starts `sockkit echo tls://127.0.0.1:0` with the server certificate, plus `extra` flags. */
  echo(...extra: string[]): Promise<Running>;
  /** start runs `sockkit ARGS` until the suite ends (see startCli for `options`). */
  start(args: readonly string[], options?: Parameters<typeof startCli>[1]): Promise<Running>;
  /** track stops `peer` when the suite ends. */
  track(peer: Peer): Peer;
}

/**
 * useTlsFixture makes test certificates before the calling suite's tests and, after them, stops
 * every server and peer it started or tracked and removes the certificates. Call it inside `describe`.
 */
export function useTlsFixture(): TlsFixture {
  let certs: TestCerts | undefined;
  const running: Running[] = [];
  const peers: Peer[] = [];
  before(() => {
    certs = makeTestCerts();
  });
  after(async () => {
    await Promise.all([...running.map((r) => r.stop()), ...peers.map((p) => p.kill())]);
    certs?.remove();
  });
  return {
    get certs(): TestCerts {
      if (!certs) throw new Error('useTlsFixture: certificates are made in before()');
      return certs;
    },
    async start(args, options) {
      const server = await startCli(args, options);
      running.push(server);
      return server;
    },
    echo(...extra) {
      const { cert, key } = this.certs.server;
      return this.start(['echo', 'tls://127.0.0.1:0', '--cert', cert, '--key', key, ...extra]);
    },
    track(peer) {
      peers.push(peer);
      return peer;
    },
  };
}
