import { Injectable, NotFoundException } from '@nestjs/common';
import { readFileSync } from 'node:fs';

/** Two folders up from src/demo and from dist/demo alike: the repository's client/. */
const BUNDLE = new URL('../../client/dist/browser/kafka-sse-client.js', import.meta.url);

/** The browser client as one ES module (client/, built by `npm run build`), for the demo page. */
@Injectable()
export class DemoClientBundle {
  private source: string | undefined;

  read(): string {
    try {
      this.source ??= readFileSync(BUNDLE, 'utf8');
      return this.source;
    } catch {
      throw new NotFoundException('The browser client is not built: run npm run build');
    }
  }
}
