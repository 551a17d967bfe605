import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { createTestProducer, type TestProducer } from './support/kafka-producer.js';
import { startTestGateway, type TestGateway } from './support/test-gateway.js';
import { signToken, TEST_AUDIENCE, TEST_ISSUER, TEST_JWT_SECRET } from './support/tokens.js';
import { waitFor } from './support/wait-for.js';

const README = readFileSync('README.md', 'utf8');
const DOCS = readdirSync('docs')
  .filter((name) => name.endsWith('.md'))
  .map((name) => join('docs', name));

/** The fenced code blocks of a Markdown text in a language. */
const blocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map(
    (match) => match[1]!,
  );

/** GitHub's anchor for a heading. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** Users read these: no run dates, revisions or references to the project's issues. */
const NOTEBOOK = [
  [
    'a date',
    /\b(?:19|20)\d\d-\d\d-\d\d\b|\b(?:January|February|March|April|May|June|July|August|September|October|November|December) (?:19|20)\d\d\b/,
  ],
  ['a git revision', /\bgit [0-9a-f]{7,40}\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/],
  ['an issue reference', /\bissues? #?\d+|(?<![\w/])#\d+\b/i],
  ['a note to the team', /\bdesign card\b|\bthe lead\b/i],
] as const;

describe('The README and docs/ (e2e)', () => {
  it('should fit in 200 lines, with the two commands', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(200);
    expect(README).toContain('npm ci && npm run demo');
    expect(README).toContain('npm ci && npm test');
  });

  it('should point to every document in docs/ and to the client’s README', () => {
    for (const file of [...DOCS, 'client/README.md'])
      expect([file, README.includes(`](${file})`)]).toEqual([file, true]);
  });

  it.each(['README.md', ...DOCS])('should have only links that lead somewhere, in %s', (file) => {
    const text = readFileSync(file, 'utf8');
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1]!)
      .filter((link) => !/^https?:/.test(link));
    for (const link of links) {
      const [path, hash] = link.split('#');
      const target = path ? normalize(join(dirname(file), path)) : file;
      expect([link, existsSync(target)]).toEqual([link, true]);
      if (hash && target.endsWith('.md')) {
        const headings = [...readFileSync(target, 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) =>
          anchor(match[1]!),
        );
        expect([link, headings]).toEqual([link, expect.arrayContaining([hash])]);
      }
    }
  });

  it.each(['README.md', ...DOCS])('should hold no dates, revisions or issue references, in %s', (file) => {
    // Addresses of other projects' pages, and anchors, may hold anything.
    const text = readFileSync(file, 'utf8').replace(/\((?:https?:|[\w./-]*#)[^)]+\)/g, '()');
    const found = NOTEBOOK.flatMap(([what, pattern]) => {
      const match = pattern.exec(text);
      return match ? [`${what}: ${match[0]}`] : [];
    });

    expect(found).toEqual([]);
  });

  it('should publish with the README’s POST /events example and a token from npm run token', async () => {
    const gateway = await startTestGateway();
    try {
      const body = /-d '(\{"type":.*\})'/.exec(README)![1]!;
      const tokenCommand = /PUBLISHER_TOKEN=\$\(npm run -s token -- (.*)\)/.exec(README)![1]!.split(' ');
      const token = spawnSync(process.execPath, ['scripts/token.mjs', ...tokenCommand], {
        env: {
          PATH: process.env.PATH ?? '',
          JWT_SECRET: TEST_JWT_SECRET,
          JWT_AUDIENCE: TEST_AUDIENCE,
          JWT_ISSUER: TEST_ISSUER,
        },
        encoding: 'utf8',
      }).stdout.trim();

      const response = await fetch(`${gateway.url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });

      expect(response.status).toBe(201);
    } finally {
      await gateway.close();
    }
  });

  describe('the web app example, pasted into a page of another origin', () => {
    let browser: Browser;
    let page: Server;
    let origin: string;
    let gateway: TestGateway;
    let producer: TestProducer;
    let html = '';

    beforeAll(async () => {
      page = createServer((_, response) =>
        response.writeHead(200, { 'content-type': 'text/html' }).end(html),
      );
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(page.address() as { port: number }).port}`;
      gateway = await startTestGateway({ CORS_ORIGINS: origin, DEMO_ENABLED: 'true' });
      producer = await createTestProducer();
      browser = await launchChromium();
    }, 90_000);

    afterAll(async () => {
      await browser?.close();
      await producer?.close();
      await gateway?.close();
      page?.close();
    });

    it('should show the user’s events as they are produced', async () => {
      const user = `readme-${randomUUID().slice(0, 8)}`;
      const example = blocks(README, 'html').find((block) => block.includes('PASTE-TOKEN-HERE'))!;
      html = example
        .replaceAll('http://localhost:3000', gateway.url)
        .replace('PASTE-TOKEN-HERE', await signToken({ sub: user, expiresIn: 600 }));
      const before = await gateway.metric('sse_streams_open');
      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        await tab.goto(`${origin}/`);
        await waitFor(async () => (await gateway.metric('sse_streams_open')) > before, 'the page’s stream');

        await producer.send('notifications', [{ type: 'hello', data: { x: 1 }, userId: user }], 0);

        await waitFor(async () => (await tab.locator('#events li').count()) === 1, 'the event in the page');
        expect(await tab.locator('#events li').textContent()).toBe('hello: {"x":1}');
      } finally {
        await context.close();
      }
    });
  });
});
