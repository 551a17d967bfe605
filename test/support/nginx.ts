import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.js';

/** The nginx configuration the project ships, which the suite runs with only its EDIT lines replaced. */
export const SHIPPED_NGINX_CONF = 'deploy/nginx/kafka-sse-gateway.conf';

const onPath = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;

/**
 * Debian's nginx, installed with apt-get when it is missing and this runs as root. Returns why
 * not, otherwise; the suite is then skipped with that reason in its name.
 */
export function nginxOrReason(): { binary: string } | { reason: string } {
  if (!onPath('openssl')) return { reason: 'openssl is missing (the suite makes a certificate with it)' };
  if (!onPath('nginx') && !existsSync('/usr/sbin/nginx')) {
    if (process.getuid?.() !== 0) return { reason: 'nginx is missing and only root may install it' };
    if (!onPath('apt-get')) return { reason: 'nginx is missing and there is no apt-get to install it' };
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-q'], { env, stdio: 'ignore' });
    const install =
      update.status === 0 &&
      spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'nginx'], {
        env,
        stdio: 'ignore',
      });
    if (!install || install.status !== 0)
      return { reason: 'nginx is missing and apt-get could not install it' };
  }
  return { binary: existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx' };
}

export interface Site {
  /** The port nginx listens on, with TLS and HTTP/2. */
  port: number;
  /** The gateways of the upstream group. */
  upstream: string[];
  /** GATEWAY_NODE_NAME → address, for `node=`. */
  nodes: Record<string, string>;
  certificate: string;
  key: string;
}

/**
 * The shipped configuration for one site: each group of lines marked `# EDIT` (the upstream's
 * servers, the node map's entries, the listen lines, the name and the certificate) replaced by
 * this site's, every other line as shipped.
 */
export function siteConfig(shipped: string, site: Site): string {
  const replacements: Array<[RegExp, () => string[]]> = [
    [
      /^\s*server\s+\S+.*;/,
      () => site.upstream.map((address) => `    server ${address} max_fails=1 fail_timeout=5s;`),
    ],
    [
      /^\s*[a-z0-9-]+\s+\S+;/,
      () => Object.entries(site.nodes).map(([name, address]) => `    ${name} ${address};`),
    ],
    [/^\s*listen\s/, () => [`    listen 127.0.0.1:${site.port} ssl http2;`]],
    [/^\s*server_name\s/, () => ['    server_name localhost;']],
    [/^\s*ssl_certificate\s/, () => [`    ssl_certificate ${site.certificate};`]],
    [/^\s*ssl_certificate_key\s/, () => [`    ssl_certificate_key ${site.key};`]],
  ];
  const out: string[] = [];
  const done = new Set<RegExp>();
  for (const line of shipped.split('\n')) {
    if (!/#\s*EDIT\s*$/.test(line)) {
      out.push(line);
      continue;
    }
    const match = replacements.find(([pattern]) => pattern.test(line));
    if (!match) throw new Error(`No replacement for the EDIT line: ${line}`);
    // A group of EDIT lines of one kind becomes this site's lines of that kind, once.
    if (!done.has(match[0])) out.push(...match[1]());
    done.add(match[0]);
  }
  return out.join('\n');
}

export interface Nginx {
  readonly url: string;
  /** The certificate clients must trust. */
  readonly ca: string;
  stop(): Promise<void>;
  errorLog(): string;
}

/**
 * nginx in the foreground, in a folder of its own, with a main configuration as a site would
 * have one (gzip on, also for event streams) around the shipped file.
 */
export async function startNginx(
  binary: string,
  site: Omit<Site, 'certificate' | 'key'>,
  shipped = readFileSync(SHIPPED_NGINX_CONF, 'utf8'),
): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-e2e-'));
  // Its workers run as an unprivileged user: they must reach the temp folders.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'tmp'));
  const certificate = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const cert = spawnSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', certificate, '-days', '2', '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  if (cert.status !== 0) throw new Error('openssl could not make a certificate');
  writeFileSync(join(dir, 'kafka-sse-gateway.conf'), siteConfig(shipped, { ...site, certificate, key }));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    # A site's own setting, which the gateway's server must not let compress (and so hold) streams.
    gzip on;
    gzip_min_length 1;
    gzip_types text/event-stream application/json;
    # For the suite only: which instance answered.
    add_header X-Served-By $upstream_addr always;
    include ${dir}/kafka-sse-gateway.conf;
}
`,
  );
  const child: ChildProcess = spawn(
    binary,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return `${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`;
    } catch {
      return stderr;
    }
  };
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited:\n${errorLog()}`);
    return answers(site.port);
  }, 'nginx to listen');
  return {
    url: `https://localhost:${site.port}`,
    ca: readFileSync(certificate, 'utf8'),
    errorLog,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
