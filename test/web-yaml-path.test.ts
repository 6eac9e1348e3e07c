// The playground editor's position-to-key-path lookup inside flow mappings (bindings/web/src/yaml-path.ts).
import { describe, expect, it } from 'vitest';
import { inFlowMapping, yamlPathAt } from '../bindings/web/src/yaml-path.js';

const at = (text: string) => {
  const pos = text.indexOf('|');
  return yamlPathAt(text.replace('|', ''), pos);
};

describe('yamlPathAt', () => {
  it('a half-typed key in a flow mapping of a list item', () => {
    expect(at('processes:\n  - { comm: postgres, pid: 100, wo| }\n')).toEqual(['processes', '[]']);
  });
  it('a key in a nested flow mapping', () => {
    expect(at('processes:\n  - { comm: x, workload: { kind: leak, ra| } }\n')).toEqual(['processes', '[]', 'workload']);
    expect(at('processes:\n  - { comm: x, workload: { ki|nd: leak } }\n')).toEqual(['processes', '[]', 'workload']);
  });
  it('between pairs, after a comma', () => {
    expect(at('machine: { ram: 4G, | }\n')).toEqual(['machine']);
  });
  it('the top level, and outside any node', () => {
    expect(at('na|me: x\nseed: 1\n')).toEqual([]);
    expect(yamlPathAt('', 0)).toBeNull();
  });
});

describe('inFlowMapping', () => {
  it('counts braces outside quotes and comments', () => {
    expect(inFlowMapping('  - { comm: x, ')).toBe(true);
    expect(inFlowMapping('  - { comm: x }')).toBe(false);
    expect(inFlowMapping('  - { comm: "a}b", ')).toBe(true);
    expect(inFlowMapping('  name: x # {')).toBe(false);
    expect(inFlowMapping('  comm: x')).toBe(false);
  });
});
