import type { RequestIssue } from '../../core/request.ts';
import type { Messages } from './en.ts';

/**
 * A bad field as a sentence in the page's language ("Steps must be at least 1.", "단계 수는 1 이상이어야 해요."),
 * from the issue's rule and limit, never from its English message (which is the fallback for a rule the
 * interface does not know).
 */
/** The sentence for the first issue naming `field` among `issues`, or undefined when that field is fine. */
export function fieldIssue(issues: readonly RequestIssue[], field: string, t: Messages): string | undefined {
  const found = issues.find((i) => i.field === field);
  return found && issueText(found, t);
}

export function issueText(issue: RequestIssue, t: Messages): string {
  if (issue.field === 'image' && issue.rule === undefined && typeof issue.limit === 'string') return t.photo.unreadable(issue.limit);
  const field = t.fields[issue.field] ?? issue.field;
  return t.issue(field, issue.rule, issue.limit, issue.message);
}
