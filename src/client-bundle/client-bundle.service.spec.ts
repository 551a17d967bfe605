import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GatewayError } from '../common/gateway-error.js';
import { ClientBundleService } from './client-bundle.service.js';

describe(ClientBundleService.name, () => {
  let folder: string;
  let file: URL;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'client-bundle-'));
    file = pathToFileURL(join(folder, 'kafka-sse-client.js'));
  });

  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  const build = (source: string) => {
    writeFileSync(file, source);
    writeFileSync(new URL(`${file.href}.map`), '{"version":3}');
  };

  it('should serve the bundle with its map named as served, as JavaScript', () => {
    build('export{a as connect};\n//# sourceMappingURL=kafka-sse-client.js.map\n');
    const sut = new ClientBundleService(file);

    expect(sut.script().body.toString()).toBe('export{a as connect};\n//# sourceMappingURL=client.js.map\n');
    expect(sut.script().contentType).toBe('text/javascript; charset=utf-8');
    expect(sut.map().body.toString()).toBe('{"version":3}');
    expect(sut.map().contentType).toBe('application/json; charset=utf-8');
  });

  it('should read the files once, with a strong ETag of each one’s bytes', () => {
    build('a');
    const sut = new ClientBundleService(file);
    const first = sut.script();
    build('b');

    expect(sut.script()).toBe(first);
    expect(first.etag).toMatch(/^"[\w-]{27}"$/);
    expect(new ClientBundleService(file).script().etag).not.toBe(first.etag);
  });

  it('should answer not found, saying how to build it, when it is not built', () => {
    const sut = new ClientBundleService(file);

    expect(() => sut.script()).toThrow(
      new GatewayError('not-found', 'The browser client is not built: run npm run build'),
    );
  });
});
