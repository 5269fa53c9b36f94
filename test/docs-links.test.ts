// The docs cannot drift from the tree: every relative link and #anchor in README.md and docs/
// (the journal included) points to an existing file and heading, a #L10-L20 line anchor to a file
// that long, and every docs/*.md reference in a comment under src/ or bench/ resolves the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './helpers.js';

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutCode(markdown).split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** The text with fenced code blocks blanked (their brackets are not links). */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** Whether `name` is declared (function, class, interface, type, const, or a method) on one of `lines`. */
function declares(lines: string[], name: string): boolean {
  const decl = new RegExp(`^\\s*(export\\s+)?(async\\s+)?(function|class|interface|type|const)\\s+${name}\\b|^\\s+(async\\s+)?${name}\\(`);
  return lines.some((l) => decl.test(l));
}

/**
 * Why `target` (a path, an optional #anchor) does not resolve from `fromDir`, or null when it does.
 * A line range whose link text is one `symbol` must begin at that symbol's declaration (its doc
 * comment above it allowed), so a line link cannot drift off the code it names.
 */
export function brokenTarget(fromDir: string, target: string, selfFile?: string, symbol?: string): string | null {
  const [file, anchor] = target.split('#', 2) as [string, string | undefined];
  const resolved = file ? path.resolve(fromDir, decodeURIComponent(file)) : selfFile;
  if (!resolved || !existsSync(resolved)) return 'no such file';
  if (!anchor) return null;
  if (statSync(resolved).isDirectory()) return 'an anchor on a folder';
  const text = readFileSync(resolved, 'utf8');
  const lines = /^L(\d+)(?:-L(\d+))?$/.exec(anchor);
  if (lines) {
    const all = text.split('\n');
    const [from, to] = [Number(lines[1]), Number(lines[2] ?? lines[1])];
    if (to > all.length) return 'past the end of the file';
    // the declaration within the range's first lines: a doc comment may come first
    if (symbol && !declares(all.slice(from - 1, Math.min(to, from + 15)), symbol)) return `no declaration of ${symbol} at its start`;
    return null;
  }
  if (!resolved.endsWith('.md')) return 'an anchor on a file that has no headings';
  return anchorsOf(text).has(anchor) ? null : 'no such heading';
}

/** Every broken relative link of a markdown file, as "file: target (why)". */
export function brokenLinks(file: string): string[] {
  const text = withoutCode(readFileSync(file, 'utf8')).replace(/`[^`\n]*`/g, (code) => (code.includes('](') ? '' : code));
  const out: string[] = [];
  for (const m of text.matchAll(/!?\[((?:[^\]]|`[^`]*`)*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[2];
    const symbol = /^`([A-Za-z_$][\w$]*)`$/.exec(m[1])?.[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const why = brokenTarget(path.dirname(file), target, file, symbol);
    if (why) out.push(`${path.relative(REPO, file)}: ${target} (${why})`);
  }
  return out;
}

/** Every docs/… reference in the comments of .ts files under `dir` that does not resolve. */
export function brokenCommentRefs(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.ts'))) {
    const file = path.join(dir, f);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!/^\s*(\/\/|\*|\/\*)/.test(line) && !line.includes('//')) continue;
      for (const m of line.matchAll(/\bdocs\/[\w./-]+\.md(?:#[\w-]+)?/g)) {
        const why = brokenTarget(REPO, m[0]);
        if (why) out.push(`${path.relative(REPO, file)}: ${m[0]} (${why})`);
      }
    }
  }
  return out;
}

const markdownFiles = (): string[] => [
  path.join(REPO, 'README.md'),
  ...readdirSync(path.join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(REPO, 'docs', f)),
];

test('every relative link and anchor in README.md and docs/ resolves', () => {
  const files = markdownFiles();
  assert.ok(
    files.some((f) => f.endsWith(path.join('docs', 'ALGORITHM.md'))),
    'docs/ALGORITHM.md is checked',
  );
  assert.deepEqual(files.flatMap(brokenLinks), []);
  // ALGORITHM.md's line links each name the symbol they point at, so the check above covers them
  const algorithm = readFileSync(path.join(REPO, 'docs', 'ALGORITHM.md'), 'utf8');
  const lineLinks = [...algorithm.matchAll(/\[([^\]]*)\]\([^)]*#L\d+[^)]*\)/g)];
  assert.ok(lineLinks.length > 0);
  assert.deepEqual(
    lineLinks.map((m) => m[1]).filter((t) => !/^`[A-Za-z_$][\w$]*`$/.test(t)),
    [],
  );
});

test("every docs/… reference in src/ and bench/ comments resolves (ALGORITHM.md's anchors included)", () => {
  assert.deepEqual([...brokenCommentRefs(path.join(REPO, 'src')), ...brokenCommentRefs(path.join(REPO, 'bench'))], []);
  const scores = readFileSync(path.join(REPO, 'src', 'scoring', 'scores.ts'), 'utf8');
  assert.match(scores, /docs\/ALGORITHM\.md#[\w-]+/, 'the scoring code names the formulas it implements by anchor');
});

test('the checker finds a planted broken file, heading, line range and drifted symbol link, and passes good ones', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'patchcore-links-'));
  try {
    writeFileSync(path.join(dir, 'code.ts'), 'a\nb\nc\n/** doc */\nexport function shown(): void {\n}\n');
    writeFileSync(path.join(dir, 'other.md'), '# Other page\n\n## Results: v3, 0.5 %\n\n## Results: v3, 0.5 %\n');
    writeFileSync(
      path.join(dir, 'page.md'),
      [
        '# The page',
        '[ok](other.md) [ok](other.md#other-page) [ok](other.md#results-v3-05-) [ok](other.md#results-v3-05--1)',
        '[ok](#the-page) [ok](code.ts#L2-L3) [`code`](code.ts) [web](https://example.com/x#y) [`shown`](code.ts#L4-L6)',
        '[bad](missing.md) [bad](other.md#no-heading) [bad](#nowhere) [bad](code.ts#L2-L9) [`shown`](code.ts#L1-L3)',
        '```',
        '[not a link](inside-a-fence.md)',
        '```',
      ].join('\n'),
    );
    const found = brokenLinks(path.join(dir, 'page.md')).map((l) => l.slice(l.indexOf(': ') + 2));
    assert.deepEqual(found, [
      'missing.md (no such file)',
      'other.md#no-heading (no such heading)',
      '#nowhere (no such heading)',
      'code.ts#L2-L9 (past the end of the file)',
      'code.ts#L1-L3 (no declaration of shown at its start)',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
