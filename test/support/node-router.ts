import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the router passed it on: which node it named, where it went, what came back. */
export interface RoutedRequest {
  readonly path: string;
  readonly named: string | undefined;
  readonly backend: string;
  readonly status: number;
}

/**
 * A tiny load balancer on loopback, with the one rule partition-owner mode needs
 * (docs/scaling.md, 3.3): a request with `node=X` goes to X when X is registered and answers,
 * anything else round robin. Responses pass through untouched, redirects included, so clients
 * follow them back through the router. Streams are piped as they come. GET requests only.
 */
export class NodeRouter {
  readonly log: RoutedRequest[] = [];
  private readonly backends = new Map<string, URL>();
  private readonly sockets = new Set<Socket>();
  private next = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<NodeRouter> {
    const server = http.createServer();
    const router = new NodeRouter(server);
    server.on('request', (request: IncomingMessage, response: ServerResponse) =>
      router.route(request, response),
    );
    server.on('connection', (socket: Socket) => {
      router.sockets.add(socket);
      socket.once('close', () => router.sockets.delete(socket));
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    return router;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Sends requests for `node` (and its share of the others) to `url`. */
  register(node: string, url: string): void {
    this.backends.set(node, new URL(url));
  }

  /** Stops sending anything to `node`, as a load balancer does once its health check fails. */
  unregister(node: string): void {
    this.backends.delete(node);
  }

  /** What reached `node` with a status, in order. */
  hitsOf(node: string): RoutedRequest[] {
    return this.log.filter((entry) => entry.backend === node);
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise((closed) => this.server.close(closed));
  }

  private route(
    request: IncomingMessage,
    response: ServerResponse,
    tried: ReadonlySet<string> = new Set(),
  ): void {
    const path = request.url ?? '/';
    const named = new URL(path, this.url).searchParams.get('node') ?? undefined;
    const candidates = [...this.backends.keys()].filter((node) => !tried.has(node));
    const node =
      named !== undefined && candidates.includes(named) ? named : candidates[this.next++ % candidates.length];
    if (node === undefined) {
      response.writeHead(502).end();
      return;
    }
    const target = this.backends.get(node)!;
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: request.method,
        headers: request.headers,
        agent: false,
      },
      (answer) => {
        this.log.push({ path, named, backend: node, status: answer.statusCode ?? 0 });
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        // A backend that dies mid-stream takes the client's connection with it, as behind any balancer.
        answer.once('error', () => response.destroy());
        answer.once('close', () => {
          if (!answer.complete) response.destroy();
        });
        response.once('close', () => answer.destroy());
      },
    );
    // A backend that does not answer (it is gone) is skipped, as "when X answers" says.
    upstream.once('error', () => {
      if (response.headersSent) response.destroy();
      else this.route(request, response, new Set([...tried, node]));
    });
    // The client left, or the answer is complete.
    response.once('close', () => upstream.destroy());
    upstream.end();
  }
}
