import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixture.ts';

/** Runs `tsx scripts/prompt.ts` as `npm run --silent prompt --` does. */
function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/prompt.ts', ...args], { cwd: ROOT, input: input ?? '', encoding: 'utf8' });
  return { status: result.status, lines: result.stdout.trim().split('\n').filter(Boolean), stderr: result.stderr };
}

describe('npm run prompt', () => {
  it('prints one JSON line for a text argument, default style ultra_realistic', () => {
    const { status, lines } = cli(['갓 구운 크루아상과 빵이 진열된 전문 베이커리 내부']);
    expect(status).toBe(0);
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(out.style).toBe('ultra_realistic');
    expect(out.industry).toBe('other');
    expect(out.prompt).toContain('freshly baked croissants and bread');
    expect(out.untranslated).toEqual([]);
    expect(out.scheduler).toBe('dpmpp_2m_karras');
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['prompt', 'negative_prompt', 'style', 'industry', 'untranslated', 'removed_text', 'dropped', 'tokens', 'over_limit']));
  });

  it('takes --style and --industry', () => {
    const { status, lines } = cli(['밝게 웃는 바리스타', '--style', 'anime', '--industry', 'cafe']);
    expect(status).toBe(0);
    const out = JSON.parse(lines[0]!);
    expect(out).toMatchObject({ style: 'anime', industry: 'cafe', scheduler: 'euler_a' });
    expect(out.prompt).toMatch(/^brightly smiling barista, cozy cafe atmosphere/);
  });

  it('answers a bad style with an error line and exit 1', () => {
    const { status, lines } = cli(['cafe', '--style', 'oil']);
    expect(status).toBe(1);
    expect(JSON.parse(lines[0]!).error.code).toBe('invalid_request');
  });

  it('reads JSON lines from stdin, one answer per line, going on past bad lines, exit 1 at the end', () => {
    const input = ['{"text":"모던한 카페에서 라테 아트를 만드는 바리스타, 자연광","industry":"cafe"}', 'not json', '{"text":"","style":"anime"}', '', '{"text":"꽃집","style":"semi_realistic","industry":"flower_shop"}'].join('\n');
    const { status, lines } = cli([], input);
    expect(status).toBe(1);
    expect(lines).toHaveLength(4);
    const [a, b, c, d] = lines.map((l) => JSON.parse(l));
    expect(a.prompt).toContain('barista making latte art in modern cafe, natural light');
    expect(b.error).toEqual({ code: 'invalid_request', message: 'line: not JSON' });
    expect(c.error.code).toBe('invalid_request');
    expect(c.error.message).toMatch(/^text: /);
    expect(d).toMatchObject({ style: 'semi_realistic', industry: 'flower_shop' });
  });

  it('exits 0 when every stdin line succeeds', () => {
    const { status, lines } = cli(['--style', 'anime'], '{"text":"cake"}\n{"text":"케이크"}\n');
    expect(status).toBe(0);
    expect(lines.map((l) => JSON.parse(l).style)).toEqual(['anime', 'anime']);
  });
});
