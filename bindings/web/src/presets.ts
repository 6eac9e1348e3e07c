// Presets: every scenario in scenarios/ (bundled as text by Vite), grouped as the seed article's sections, with
// the scenario's English description and a Korean one (presets-ko.ts).
import { DESCRIPTIONS_KO } from './presets-ko.js';

export type Section = 'paging' | 'overcommit' | 'oom' | 'panic' | 'v1' | 'v2' | 'prevention';

export interface Preset {
  file: string;
  name: string;
  section: Section;
  description: string;
  /** Korean description; the English one where none is written (the test requires one for every scenario). */
  descriptionKo: string;
  text: string;
}

const files = import.meta.glob('../../../scenarios/*.yaml', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export function sectionOf(name: string): Section {
  if (name.startsWith('fork-overcommit') || name === 'oom-killer-disabled') return 'overcommit';
  if (name.startsWith('panic-')) return 'panic';
  if (name.startsWith('cgroup-v1-')) return 'v1';
  if (name.startsWith('cgroup-v2-')) return 'v2';
  if (name.startsWith('prevent-')) return 'prevention';
  if (name.startsWith('swap-')) return 'paging';
  return 'oom';
}

export const SECTIONS: Section[] = ['paging', 'overcommit', 'oom', 'panic', 'v1', 'v2', 'prevention'];

export const PRESETS: Preset[] = Object.entries(files)
  .map(([path, text]) => {
    const file = path.split('/').pop()!;
    const name = file.replace(/\.yaml$/, '');
    const description = /^description:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? '';
    return { file, name, section: sectionOf(name), description, descriptionKo: DESCRIPTIONS_KO[name] ?? description, text };
  })
  .sort((a, b) => SECTIONS.indexOf(a.section) - SECTIONS.indexOf(b.section) || a.name.localeCompare(b.name));

/** Presets that touch what the seed article gets wrong: the page shows the kernel's rule next to them. */
export function articleCorrection(p: Preset): 'overcommit' | 'oom_kill' | null {
  if (/vm\.overcommit_memory|overcommit/.test(p.text)) return 'overcommit';
  if (p.section === 'oom' || p.section === 'panic') return 'oom_kill';
  return null;
}
