// #/reviews/{id} — one review: the atom's code, its diff against the previous attempt, validator
// output, the AI's suggestions and the confidence; approve, edit, regenerate or reject
// (POST /reviews/{id}/approve|edit|regenerate|reject), or, for a review that blocks a wave whose
// acceptance tests still fail, waive those tests with a written reason (POST /reviews/{id}/waive).

import { api } from '../api.js';
import {
  askDialog, codeBlock, diffView, errorBox, facts, loading, notify, pageHeader, validationList,
} from '../components.js';
import { badge, confidenceEl, h, priorityBadge, replace, timeEl, uid, words } from '../dom.js';
import { refreshReviewCount } from '../main.js';
import { link } from '../router.js';
import { languageOf } from '../highlight.js';

export default async function render(ctx) {
  ctx.setTitle('Review');
  const editorHost = h('div', { class: 'editor-host' });
  replace(ctx.main, loading());
  const review = await api.get(`/reviews/${ctx.params.id}`);
  const [atom, plan, gates, evidence] = await Promise.all([
    review.atom_id ? api.get(`/atoms/${review.atom_id}`) : null,
    api.get(`/masterplans/${review.plan_id}`).catch(() => null),
    review.kind === 'gate' ? api.get(`/masterplans/${review.plan_id}/gate`).catch(() => ({ items: [] })) : null,
    api.get(`/masterplans/${review.plan_id}/evidence`).catch(() => null),
  ]);
  if (ctx.disposed) return;
  const task = plan ? plan.phases.flatMap((p) => p.milestones.flatMap((m) => m.tasks)).find((t) => t.number === review.task_number) : null;
  ctx.setTitle(`Review ${review.file_path || `task #${review.task_number}`}`);

  const attempts = atom?.attempt_history || [];
  const latest = attempts[attempts.length - 1] || null;
  const previous = attempts.length > 1 ? attempts[attempts.length - 2] : null;
  const suggestions = review.ai_suggestions || null;

  replace(ctx.main,
    pageHeader(review.file_path ? `Review: ${review.file_path}` : `Review: task #${review.task_number} (gate)`, {
      meta: [badge(review.status), ' ', h('span', { class: ['badge', `prio-${review.priority}`] }, `${review.priority} priority`), ' created ', timeEl(review.created_at)],
      subtitle: review.reason,
      actions: [h('a', { href: '#/reviews', class: 'btn' }, 'Queue'), h('a', { href: `#/plans/${review.plan_id}/execution`, class: 'btn' }, 'Execution')],
    }),
    h('div', { class: 'review-layout' },
      h('section', { class: 'review-code', 'aria-label': 'Code' }, editorHost, codePanel(review, atom, latest, previous, suggestions, gates),
        coveringTests(review, evidence)),
      h('aside', { class: 'review-side' },
        h('section', { class: 'card' }, h('h2', null, 'Confidence'),
          h('p', { class: 'confidence-big' }, confidenceEl(review.confidence)),
          h('p', { class: 'small muted' }, 'Reviews are asked below 0.70 (high priority below 0.50). Confidence weighs validators passed (40 %), attempts needed (30 %), task complexity (20 %) and the task\'s tests (10 %).'),
          facts([
            ['Plan', h('a', { href: `#/plans/${review.plan_id}` }, plan?.project_name || review.plan_id.slice(0, 8))],
            review.task_number ? ['Task', h('a', { href: link(`/plans/${review.plan_id}`, { tab: 'tasks', task: review.task_number }) }, `#${review.task_number}${task ? ` ${task.name}` : ''}`)] : null,
            review.wave ? ['Wave', String(review.wave)] : null,
            atom ? ['Attempts', String(atom.attempts)] : null,
            atom ? ['Atom status', badge(atom.status)] : null,
          ])),
        review.status === 'pending' ? actionsPanel(ctx, review, latest, suggestions, editorHost) : resolutionPanel(review, latest),
        suggestionsPanel(suggestions),
        task ? h('section', { class: 'card' }, h('h2', null, 'What the task asks'),
          task.description ? h('p', null, task.description) : null,
          (task.acceptance || []).length ? h('ul', { class: 'criteria' }, task.acceptance.map((c) => h('li', null, priorityBadge(c.priority), ' ', c.criterion))) : null) : null)));
}

/** The code: latest attempt, diff against the previous attempt, the AI's proposal (switchable). */
function codePanel(review, atom, latest, previous, suggestions, gates) {
  if (!atom) {
    const failing = (gates?.items || []).filter((g) => g.wave === review.wave && !g.passed).flatMap((g) => g.failing_tests || []);
    return h('div', { class: 'card' }, h('h2', null, 'Failing acceptance tests'),
      failing.length ? h('ul', null, failing.map((t) => h('li', null, h('code', null, t.name || t.test_id), ` ${t.status || 'fail'}`))) : h('p', { class: 'muted' }, 'No failing tests recorded.'),
      h('p', { class: 'muted small' }, 'This review is about a task whose tests still fail after the repair rounds.'));
  }
  if (!latest) return h('p', { class: 'muted' }, 'The atom has no attempt yet.');
  const views = [{ key: 'code', label: `Whole file (attempt ${latest.attempt})` }];
  if (previous?.output != null && latest.output != null) views.push({ key: 'diff', label: `Diff vs attempt ${previous.attempt}` });
  if (suggestions?.proposed_content) views.push({ key: 'proposal', label: 'AI proposal (diff)' });
  const body = h('div', { class: 'code-view' });
  const show = (key) => {
    for (const b of switcher.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.view === key));
    if (key === 'code') {
      replace(body, latest.output != null
        ? codeBlock(latest.output, { label: `${review.file_path}, attempt ${latest.attempt}`, language: languageOf(review.file_path) })
        : h('p', { class: 'muted' }, 'This attempt produced no usable output.'));
    }
    if (key === 'diff') replace(body, diffView(previous.output, latest.output, { oldLabel: `attempt ${previous.attempt}`, newLabel: `attempt ${latest.attempt}` }));
    if (key === 'proposal') replace(body, diffView(latest.output ?? '', suggestions.proposed_content, { oldLabel: `attempt ${latest.attempt}`, newLabel: 'AI proposal' }));
  };
  const switcher = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show' },
    views.map((v) => h('button', { type: 'button', class: 'btn btn-small', 'data-view': v.key, 'aria-pressed': 'false', onclick: () => show(v.key) }, v.label)));
  // The whole file first, highlighted; the diff is one click away.
  show('code');
  return h('div', null,
    h('div', { class: 'code-head' }, h('h2', null, h('code', null, review.file_path)), switcher),
    body,
    h('section', { class: 'card' }, h('h2', null, `Validator output (attempt ${latest.attempt})`), validationList(latest.validation),
      latest.error_feedback ? [h('h3', null, 'Feedback for the model'), h('pre', { class: 'feedback' }, latest.error_feedback)] : null),
    atom.attempt_history.length > 1 ? h('details', { class: 'card' }, h('summary', null, 'Earlier attempts'),
      atom.attempt_history.slice(0, -1).reverse().map((x) => h('div', { class: 'attempt' },
        h('h3', null, `Attempt ${x.attempt} · ${words(x.origin)}${x.temperature != null ? ` · temperature ${Number(x.temperature).toFixed(1)}` : ''}`),
        validationList(x.validation),
        x.error_feedback ? h('pre', { class: 'feedback' }, x.error_feedback) : null))) : null);
}

/**
 * The acceptance tests that cover the file's task, each with its latest run: status, when, which test
 * ids passed or failed, and the output of that run (opened when it did not pass).
 */
function coveringTests(review, evidence) {
  const task = (evidence?.tasks || []).find((t) => t.number === review.task_number);
  const tests = task?.tests || [];
  return h('section', { class: 'card covering-tests', 'aria-labelledby': 'covering-title' },
    h('h2', { id: 'covering-title' }, `Tests that cover task #${review.task_number ?? '?'}`),
    !tests.length ? h('p', { class: 'muted' }, evidence ? 'No acceptance test covers this task.' : 'The tests could not be loaded.')
      : h('ul', { class: 'covering-list' }, tests.map((t) => {
        const runs = (t.runs || []).filter((r) => r.kind !== 'mutation');
        const last = runs[runs.length - 1];
        const status = last ? (last.status === 'pass' ? 'passed' : last.status === 'fail' ? 'failed' : last.status) : null;
        return h('li', { class: 'covering-test' },
          priorityBadge(t.priority), ' ', h('strong', null, t.name), ' ', h('code', { class: 'muted small' }, t.file), ' ',
          last ? [badge(status), h('span', { class: 'muted small' }, ` wave ${last.wave}, round ${last.repair_round} · `), timeEl(last.created_at)]
            : h('span', { class: 'muted small' }, 'not run yet'),
          last && (last.cases || []).length ? h('div', { class: 'small' }, last.cases.map((c, i) => [i ? ', ' : '', h('code', null, c.id.split('::').slice(1).join('::') || c.id), ` ${c.outcome}`])) : null,
          last?.output_tail ? h('details', { class: 'test-output', open: last.status !== 'pass' },
            h('summary', null, 'Output of the latest run'), codeBlock(last.output_tail, { label: `Output of ${t.name}` })) : null);
      })));
}

function suggestionsPanel(s) {
  if (!s) return h('section', { class: 'card' }, h('h2', null, 'AI suggestions'), h('p', { class: 'muted' }, 'Not available yet: a suggestions job writes them shortly after the review is created.'));
  const list = Array.isArray(s) ? s : s.suggestions || [];
  return h('section', { class: 'card suggestions' }, h('h2', null, 'AI suggestions'),
    s.summary ? h('p', null, s.summary) : null,
    s.recommended_action ? h('p', null, 'Recommended: ', h('strong', null, s.recommended_action)) : null,
    list.length ? h('ul', null, list.map((x) => h('li', null,
      x.severity ? h('span', { class: ['badge', `sev-${x.severity}`] }, x.severity) : null, ' ',
      h('strong', null, x.title || ''), x.detail ? h('div', { class: 'small' }, x.detail) : null))) : null);
}

function resolutionPanel(review, latest) {
  return h('section', { class: 'card' }, h('h2', null, 'Resolution'),
    h('p', null, 'This review was ', h('strong', null, review.status), review.resolved_at ? [' ', timeEl(review.resolved_at)] : null, '.'),
    review.feedback ? h('blockquote', null, review.feedback) : null,
    review.waiver_reason ? h('p', null, 'Waived: ', review.waiver_reason) : null,
    review.edited_content != null && latest?.output != null ? h('details', null, h('summary', null, 'Your edit'),
      diffView(latest.output, review.edited_content, { oldLabel: `attempt ${latest.attempt}`, newLabel: 'your edit' })) : null);
}

function actionsPanel(ctx, review, latest, suggestions, editorArea) {
  const resolve = async (action, body) => {
    const answer = await api.post(`/reviews/${review.id}/${action}`, body);
    refreshReviewCount();
    return answer;
  };
  const after = async (action) => {
    const done = { edit: 'edited', approve: 'approved', reject: 'rejected', waive: 'waived' }[action] || 'sent back for regeneration';
    notify(`Review ${done}; the executor applies it.`, 'success');
    // The next review of the same plan, if one waits; otherwise the plan's execution page, where the
    // person sees what the resolution does to the plan (it resumes, completes, or fails).
    let next = null;
    try {
      const queue = await api.get('/reviews', { query: { status: 'pending', plan_id: review.plan_id, limit: 5 } });
      next = (queue.items || []).find((r) => r.id !== review.id);
    } catch {
      next = null;
    }
    if (next) location.hash = `#/reviews/${next.id}`;
    else if (review.plan_id) location.hash = link(`/plans/${review.plan_id}/execution`, { after_review: review.id });
    else location.hash = '#/reviews';
  };
  const ask = (action, spec) => async () => {
    let taken = action;
    const result = await askDialog({
      ...spec,
      onSubmit: async (values) => {
        const body = {};
        if (values.feedback?.trim()) body.feedback = values.feedback.trim();
        if (values.reason?.trim()) body.reason = values.reason.trim();
        // A rejection's reason can ask for a new attempt instead: the same words, as feedback.
        if (action === 'reject' && values.regenerate) {
          taken = 'regenerate';
          return resolve('regenerate', body);
        }
        taken = action;
        return resolve(action, body);
      },
    });
    if (result) after(taken);
  };

  const openEditor = () => {
    const id = uid('edit-content');
    const fid = uid('edit-feedback');
    const textarea = h('textarea', { id, rows: 22, class: 'code-input', spellcheck: 'false', wrap: 'off' });
    textarea.value = latest?.output ?? '';
    const feedback = h('input', { id: fid, type: 'text' });
    const preview = h('div');
    const errors = h('div');
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save my version');
    const form = h('form', { class: 'review-editor card' },
      h('h2', null, 'Edit the file'),
      h('p', { class: 'small muted' }, 'Your content replaces the file: it is validated, then committed with the wave.'),
      h('div', { class: 'field' }, h('label', { for: id }, `Content of ${review.file_path}`), textarea),
      suggestions?.proposed_content ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => { textarea.value = suggestions.proposed_content; textarea.focus(); } }, 'Start from the AI proposal') : null,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => replace(preview, diffView(latest?.output ?? '', textarea.value, { oldLabel: `attempt ${latest?.attempt ?? 0}`, newLabel: 'your version' })) }, 'Show my changes'),
      preview,
      h('div', { class: 'field' }, h('label', { for: fid }, 'Note (optional)'), feedback),
      errors,
      h('div', { class: 'form-buttons' }, h('button', { type: 'button', class: 'btn', onclick: () => { replace(editorArea); editButton.focus(); } }, 'Cancel'), submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      replace(errors);
      try {
        const body = { content: textarea.value };
        if (feedback.value.trim()) body.feedback = feedback.value.trim();
        await resolve('edit', body);
        after('edit');
      } catch (error) {
        replace(errors, errorBox(error));
        submit.disabled = false;
      }
    });
    replace(editorArea, form);
    form.scrollIntoView({ block: 'start' });
    textarea.focus({ preventScroll: true });
  };
  const editButton = h('button', { type: 'button', class: 'btn', 'data-action': 'edit', onclick: openEditor }, 'Edit');
  const isAtom = review.kind !== 'gate';
  return h('section', { class: 'card review-actions' }, h('h2', null, 'Decide'),
    h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Review decisions' },
      h('button', {
        type: 'button', class: 'btn btn-primary', 'data-action': 'approve',
        onclick: ask('approve', { title: 'Approve this atom?', message: 'The latest attempt is accepted as the file\'s content.', submitLabel: 'Approve', fields: [{ name: 'feedback', label: 'Note (optional)', type: 'text' }] }),
      }, 'Approve'),
      isAtom ? editButton : null,
      h('button', {
        type: 'button', class: 'btn', 'data-action': 'regenerate',
        onclick: ask('regenerate', { title: 'Regenerate with feedback', message: 'A new attempt is made with your feedback, then scored again.', submitLabel: 'Regenerate', fields: [{ name: 'feedback', label: 'What should change?', type: 'textarea', required: true, rows: 5 }] }),
      }, 'Regenerate'),
      h('button', {
        type: 'button', class: 'btn btn-danger', 'data-action': 'reject',
        onclick: ask('reject', { title: 'Reject this atom?', message: 'Its task fails; the plan cannot complete until it is regenerated.', submitLabel: 'Reject', danger: true, fields: [{ name: 'feedback', label: 'Why is it rejected?', type: 'textarea', required: true },
          { name: 'regenerate', label: 'Instead, regenerate the file with this reason as feedback', type: 'checkbox', help: 'The task does not fail; a new attempt is made and scored again.' }] }),
      }, 'Reject'),
      review.blocking && review.gate_failed ? h('button', {
        type: 'button', class: 'btn', 'data-action': 'waive',
        onclick: ask('waive', { title: 'Waive the failing tests of this wave?', message: 'The code is kept as it is and the wave passes once every blocking review of it is approved or waived. The reason is recorded in the plan\'s history.', submitLabel: 'Waive', fields: [{ name: 'reason', label: 'Why may the wave pass with failing tests?', type: 'textarea', required: true }] }),
      }, 'Waive tests') : null),
    isAtom ? h('p', { class: 'small muted' }, 'Edit opens an editor above the code, filled with the latest attempt.') : null);
}
