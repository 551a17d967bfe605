import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GatewayError } from '../common/gateway-error.js';

/** The browser client's minified ES module (`client/`, built by `npm run build`): two folders up from src/ and dist/ alike. */
export const CLIENT_BUNDLE_FILE = Symbol('CLIENT_BUNDLE_FILE');
export const BUILT_CLIENT_BUNDLE = new URL('../../client/dist/browser/kafka-sse-client.js', import.meta.url);

/** A file as it is served: its bytes, its type and a strong validator. */
export interface ServedFile {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/**
 * The browser client as the gateway serves it at /client.js, with its source map at
 * /client.js.map. Both are read once, on first use, and kept: they change only with a deploy.
 */
@Injectable()
export class ClientBundleService {
  private files: { script: ServedFile; map: ServedFile } | undefined;

  constructor(@Inject(CLIENT_BUNDLE_FILE) private readonly file: URL) {}

  script(): ServedFile {
    return this.read().script;
  }

  map(): ServedFile {
    return this.read().map;
  }

  private read(): { script: ServedFile; map: ServedFile } {
    if (this.files) return this.files;
    let source: string;
    let map: Buffer;
    try {
      source = readFileSync(this.file, 'utf8');
      map = readFileSync(new URL(`${this.file.href}.map`));
    } catch {
      throw new GatewayError('not-found', 'The browser client is not built: run npm run build');
    }
    // The bundle names its map by its file name; here it is served beside /client.js.
    const script = Buffer.from(
      source.replace(/\/\/# sourceMappingURL=\S+\s*$/, '//# sourceMappingURL=client.js.map\n'),
    );
    this.files = {
      script: served(script, 'text/javascript; charset=utf-8'),
      map: served(map, 'application/json; charset=utf-8'),
    };
    return this.files;
  }
}

function served(body: Buffer, contentType: string): ServedFile {
  return {
    body,
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}
