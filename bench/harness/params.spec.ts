import { benchParams, ceilingParams, ParamError } from './params.mjs';
import { labelledTotal, parseMetrics, total } from './metrics.mjs';

describe('bench parameters', () => {
  it('should give the smoke run its small defaults', () => {
    const params = benchParams({ BENCH_SMOKE: '1' });

    expect(params).toMatchObject({
      mode: 'smoke',
      streams: 200,
      durationS: 3,
      clients: 2,
      widePartitions: 8,
    });
    expect(params.targets).toEqual(['gateway', 'raw']);
    expect(params).toMatchObject({ absenceRate: 1000, absenceS: 5, absenceReplayMaxBytes: 64 * 1024 });
  });

  it('should give the long absence ten minutes at 1,000 events a second in a full run, and let it be left out', () => {
    expect(benchParams({})).toMatchObject({ absenceRate: 1000, absenceS: 600 });
    expect(benchParams({ BENCH_ABSENCE_RATE: '0' }).absenceRate).toBe(0);
    expect(() => benchParams({ BENCH_ABSENCE_S: '0' })).toThrow(
      new ParamError('BENCH_ABSENCE_S=0: expected a number from 1 to 86400'),
    );
  });

  it('should name the variable of a bad value in one plain error', () => {
    expect(() => benchParams({ BENCH_STREAMS: 'many' })).toThrow(
      new ParamError('BENCH_STREAMS=many: expected a number from 1 to 19000'),
    );
    expect(() => benchParams({ BENCH_TARGETS: 'gateway,nginx' })).toThrow(ParamError);
    expect(() => ceilingParams({ BENCH_CEILING_MIXES: 'targeted,firehose' })).toThrow(
      'BENCH_CEILING_MIXES: unknown mix firehose',
    );
  });

  it('should refuse more streams per load client than one process can hold', () => {
    expect(() => benchParams({ BENCH_STREAMS: '19000', BENCH_CLIENTS: '1' })).toThrow(/BENCH_CLIENTS/);
  });
});

describe('the entry points', () => {
  it.each(['../run.mjs', '../ceiling.mjs', '../soak.mjs', '../scenarios/long-absence.mjs'])(
    'should do nothing on import of %s but export main',
    async (path) => {
      const listeners = process.listenerCount('SIGINT');

      const entry = (await import(path)) as { main: unknown };

      expect(typeof entry.main).toBe('function');
      expect(process.listenerCount('SIGINT')).toBe(listeners);
    },
  );
});

describe('the gateway metrics', () => {
  const samples = parseMetrics(
    [
      '# HELP sse_resets_total Reset events sent',
      '# TYPE sse_resets_total counter',
      'sse_resets_total{reason="too-old"} 2',
      'sse_resets_total{reason="malformed-id"} 1',
      'sse_streams_open 40',
      '',
    ].join('\n'),
  );

  it('should sum a metric over its labels', () => {
    expect(total(samples, 'sse_resets_total')).toBe(3);
    expect(total(samples, 'sse_streams_open')).toBe(40);
  });

  it('should sum only the series of a label', () => {
    expect(labelledTotal(samples, 'sse_resets_total', 'reason="too-old"')).toBe(2);
    expect(labelledTotal(samples, 'sse_resets_total', 'reason="expired"')).toBe(0);
  });

  it('should give the fallback for a metric without series', () => {
    expect(total(samples, 'kafka_consumer_lag')).toBe(0);
    expect(total(samples, 'kafka_consumer_lag', NaN)).toBeNaN();
  });
});
