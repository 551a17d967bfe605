import { readFileSync } from 'node:fs';
import { newestStandardRun } from './bench-results.mjs';
import { PERFORMANCE_DOC, performanceDoc } from './performance-doc.mjs';

describe('docs/performance.md', () => {
  it('should be what npm run docs:performance writes from the newest standard bench result', () => {
    // If this fails after a new `npm run bench`: run `npm run docs:performance` and commit the page.
    expect(readFileSync(PERFORMANCE_DOC, 'utf8')).toBe(performanceDoc(newestStandardRun()?.data));
  });

  it('should show a figure the result lacks as "–", whatever else the result holds', () => {
    const page = performanceDoc({
      params: { mode: 'full', streams: 10_000 },
      gateway: { idle: {} },
      storm: null,
    });

    expect(page).toContain('| idle, every stream open | memory (RSS) per stream | – | – | – |');
    expect(page).not.toContain('undefined');
    expect(page).not.toContain('NaN');
  });

  it('should say how to get figures when there is no result', () => {
    expect(performanceDoc(undefined)).toContain('No benchmark result yet: run `npm run bench`');
  });

  it('should name neither the run’s date nor its git revision', () => {
    const result = newestStandardRun()?.data as
      { startedAt?: string; git?: { revision?: string } } | undefined;
    const page = performanceDoc(result);

    expect(page).not.toMatch(/\b20\d\d-\d\d-\d\d/);
    if (result?.git?.revision) expect(page).not.toContain(result.git.revision);
  });
});
