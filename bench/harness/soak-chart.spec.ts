import { niceStep, svgChart } from './soak-chart.mjs';

describe(svgChart.name, () => {
  const samples = [0, 10, 20, 30].flatMap((t) => [
    {
      t,
      instance: 'A',
      rssBytes: 200 * 2 ** 20,
      heapUsedBytes: 80 * 2 ** 20,
      loopP99Ms: 12,
      loopMaxMs: 40,
      lag: 3,
      streamsOpen: 500,
    },
    {
      t: t + 40,
      instance: 'B',
      rssBytes: 210 * 2 ** 20,
      heapUsedBytes: 90 * 2 ** 20,
      loopP99Ms: 11,
      loopMaxMs: 30,
      lag: NaN,
      streamsOpen: 500,
    },
  ]);

  it('should draw a line per instance and series, and the marks, in one SVG document', () => {
    const svg = svgChart({
      title: 'soak <1> & "2"',
      subtitle: ['passed', 'second line'],
      samples,
      marks: [{ atS: 40, label: 'B starts' }],
    });

    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('soak &lt;1&gt; &amp; &quot;2&quot;');
    // RSS and heap, p99 and max, lag, open streams: 6 series for A; B has no lag.
    expect(svg.match(/<polyline/g)).toHaveLength(11);
    expect(svg.match(/stroke-dasharray="4 3"/g)).toHaveLength(4);
    expect(svg).toContain('B starts');
    expect(svg).toContain('>second line</text>');
    expect(svg).not.toContain('NaN');
  });
});

describe(niceStep.name, () => {
  it('should cut a range into round steps', () => {
    expect(niceStep(60, 10)).toBe(10);
    expect(niceStep(3.2, 10)).toBe(0.5);
    expect(niceStep(370, 4)).toBe(100);
    expect(niceStep(0, 4)).toBe(1);
  });
});
