// Where the cursor is in the scenario's YAML, for completion and hover docs inside flow mappings
// (`- { comm: web, workload: { kind: leak, ra| } }`), which the editor's indentation walk cannot see into. The
// `yaml` package (the scenario loader's parser) parses the text, half-typed keys included, and the node ranges
// give the keys of the mappings around the position.
import { isMap, isSeq, parseDocument, type Node } from 'yaml';

/** True when the line before the cursor has an unclosed `{` (outside quotes): the cursor is in a flow mapping. */
export function inFlowMapping(before: string): boolean {
  let depth = 0;
  let quote: string | null = null;
  for (const c of before) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
  }
  return depth > 0;
}

/**
 * The keys leading to the mapping the position is in (`[]` for an array item), outermost first; null when the
 * position is not inside a mapping of the parsed document. A position on a key, or between two pairs, is in that
 * key's mapping.
 */
export function yamlPathAt(text: string, pos: number): string[] | null {
  const doc = parseDocument(text);
  const path: string[] = [];
  const within = (n: Node | null | undefined) => !!n?.range && pos >= n.range[0] && pos <= n.range[2];
  let node = doc.contents as Node | null;
  if (!within(node)) return null;
  for (;;) {
    if (isMap(node)) {
      let next: Node | null = null;
      for (const p of node.items) {
        const k = p.key as Node | null;
        const v = p.value as Node | null;
        if (k?.range && pos >= k.range[0] && pos <= k.range[1]) return path;
        if (within(v)) {
          path.push(String((k as { value?: unknown } | null)?.value ?? ''));
          next = v;
          break;
        }
      }
      if (!next) return path;
      node = next;
    } else if (isSeq(node)) {
      const item = node.items.find((x) => within(x as Node)) as Node | undefined;
      if (!item) return null;
      path.push('[]');
      node = item;
    } else return null;
  }
}
