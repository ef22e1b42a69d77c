// The per-destination sample heads the exporter keeps between scrapes (lib/cli/exporter-heads.ts):
// written once per namespace and destination, reused while scrapes use them, dropped after one that
// does not.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { POOL_GAUGES, SampleHeads } from '../../lib/cli/exporter-heads.js';
import { formatExposition, renderLabels } from '../../lib/cli/exposition.js';

const podA = renderLabels({ netns: '4026532001', container: 'we"ird', pod: 'a' });
const podB = renderLabels({ netns: '4026532002', container: '', pod: '' });

describe('SampleHeads', () => {
  it('writes each gauge name with the namespace pairs, then the destination, escaped once', () => {
    const heads = new SampleHeads();
    expect(heads.of(podA, '10.0.0.7:5432').map((h) => Buffer.from(h).toString('utf8'))).toEqual([
      'safebind_port_pool_in_use{netns="4026532001",container="we\\"ird",pod="a",destination="10.0.0.7:5432"} ',
      'safebind_port_pool_usage_ratio{netns="4026532001",container="we\\"ird",pod="a",destination="10.0.0.7:5432"} ',
      'safebind_port_pool_exhaustion_seconds{netns="4026532001",container="we\\"ird",pod="a",destination="10.0.0.7:5432"} ',
    ]);
    expect(POOL_GAUGES).toHaveLength(3);
  });

  it('hands back the same heads while scrapes use them, and forgets those a scrape did not use', () => {
    const heads = new SampleHeads();
    const first = heads.of(podA, '10.0.0.7:5432');
    heads.of(podA, '[fd00::7]:443');
    heads.of(podB, '10.0.0.7:5432');
    heads.sweep();
    expect(heads.size).toBe(3);
    // The next scrape uses one of them: the same object, not a copy.
    expect(heads.of(podA, '10.0.0.7:5432')).toBe(first);
    heads.sweep();
    expect(heads.size).toBe(1);
    heads.sweep();
    expect(heads.size).toBe(0);
    // Written afresh once forgotten.
    expect(heads.of(podA, '10.0.0.7:5432')).not.toBe(first);
    expect(heads.of(podA, '10.0.0.7:5432')).toEqual(first);
  });

  it('rows written from them read as the samples written one by one', () => {
    const heads = new SampleHeads();
    const h = heads.of(podB, '10.0.0.7:5432');
    const rows = formatExposition([
      { name: POOL_GAUGES[0], help: 'h', type: 'gauge', samples: [], rows: { heads: [h[0]], values: [3] } },
      { name: POOL_GAUGES[1], help: 'h', type: 'gauge', samples: [], rows: { heads: [h[1]], values: [NaN] } },
    ]);
    const labels = { netns: '4026532002', container: '', pod: '', destination: '10.0.0.7:5432' };
    const samples = formatExposition([
      { name: POOL_GAUGES[0], help: 'h', type: 'gauge', samples: [{ labels, value: 3 }] },
      { name: POOL_GAUGES[1], help: 'h', type: 'gauge', samples: [{ labels, value: NaN }] },
    ]);
    expect(rows.toString('utf8')).toBe(samples.toString('utf8'));
  });
});
