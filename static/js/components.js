// Pieces of UI shared by the pages: notices, error boxes, dialogs, the plan action bar, the cost
// meter, code and diff views.

import { api, describeError } from './api.js';
import { append, badge, h, money, number, percent, plural, replace, uid, words } from './dom.js';
import { diffLines, diffStats, hunks, lines } from './diff.js';
import { highlightLines } from './highlight.js';

// Notices -----------------------------------------------------------------------------------------

/** A short message in the notice area (announced to screen readers); disappears after a while. */
export function notify(message, kind = 'info', { timeout = 6000 } = {}) {
  const area = document.getElementById('notices');
  if (!area) return;
  const close = h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss' }, '×');
  const note = h('div', { class: ['notice', `notice-${kind}`] }, h('span', null, message), close);
  close.addEventListener('click', () => note.remove());
  area.append(note);
  if (timeout) setTimeout(() => note.remove(), timeout);
}

/**
 * Whether trying the same request again could succeed: not after the server said the thing does not
 * exist, is not the person's, or that the request itself is wrong (4xx other than timeouts and rate limits).
 */
function retryable(error) {
  const status = error?.status;
  return !(status >= 400 && status < 500 && status !== 408 && status !== 429);
}

/** An error, in plain words, as a block (role=alert so it is announced). */
export function errorBox(error, { retry } = {}) {
  if (error?.handled) return h('div', { class: 'error-box', role: 'alert' }, 'Your session has ended. Please log in again.');
  if (!retryable(error)) retry = null;
  const { title, detail, fields } = describeError(error);
  return h('div', { class: 'error-box', role: 'alert' },
    h('p', { class: 'error-title' }, title),
    detail ? h('p', { class: 'error-detail' }, detail) : null,
    fields.length ? h('ul', { class: 'error-fields' }, fields.map((f) => h('li', null, f))) : null,
    retry ? h('button', { type: 'button', class: 'btn btn-small', onclick: retry }, 'Try again') : null);
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** A page's heading block: h1 (focused after navigation), optional subtitle and actions. */
export function pageHeader(title, { subtitle, actions, meta } = {}) {
  return h('header', { class: 'page-header' },
    h('div', { class: 'page-title' },
      h('h1', { tabindex: '-1' }, title),
      meta ? h('div', { class: 'page-meta' }, meta) : null,
      subtitle ? h('p', { class: 'page-subtitle' }, subtitle) : null),
    actions ? h('div', { class: 'page-actions' }, actions) : null);
}

/** A definition list from [label, value] pairs (null values skipped). */
export function facts(pairs, className = 'facts') {
  return h('dl', { class: className }, pairs.filter((p) => p && p[1] !== null && p[1] !== undefined)
    .map(([k, v]) => h('div', { class: 'fact' }, h('dt', null, k), h('dd', null, v))));
}

// Live connection indicator ---------------------------------------------------------------------------

export function liveIndicator() {
  const el = h('span', { class: 'live live-connecting', role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  const labels = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', closed: 'Not live' };
  return {
    el,
    set(status) {
      el.className = `live live-${status}`;
      el.textContent = labels[status] || status;
    },
  };
}

// Cost --------------------------------------------------------------------------------------------

/**
 * How a completed plan was proven: "verified" (every acceptance test passed on the archived commit) or
 * "accepted with waivers", with each waived test, the reason, who and when. Null before completion.
 */
export function verificationBadge(plan) {
  if (!plan || !plan.verification) return null;
  return plan.verification === 'verified'
    ? h('span', { class: ['badge', 'status-completed'], title: 'Every acceptance test passed on the archived commit.' }, 'verified')
    : h('span', { class: ['badge', 'status-waived'], title: 'Some failing acceptance tests were accepted with a written reason.' }, 'accepted with waivers');
}

export function verificationNote(plan) {
  if (!plan || !plan.verification) return null;
  if (plan.verification === 'verified') {
    return h('p', { class: 'verification verified', role: 'note' }, verificationBadge(plan), ' Every acceptance test passed on the committed tree that the archive holds.');
  }
  const waivers = plan.waivers || [];
  return h('div', { class: 'status-reason verification', role: 'note' },
    h('p', null, verificationBadge(plan), ` Completed with ${waivers.length} failing test${waivers.length === 1 ? '' : 's'} accepted by a reviewer. Not verified:`),
    h('ul', null, waivers.map((w) => h('li', null, h('strong', null, w.name), ` (${String(w.priority || '').toUpperCase()}, wave ${w.wave}): “${w.reason}” — waived ${new Date(w.waived_at).toLocaleString()}`))));
}

/**
 * Cost so far against the budget, as a bar with the numbers in text. `estimated` (the plan's
 * `actual_cost_estimated`): the cost includes calls whose tokens were estimated, shown as "≈".
 */
export function costMeter(actual, budget, estimate, { estimated = false } = {}) {
  const spent = Number(actual || 0);
  const limit = Number(budget || 0);
  const ratio = limit ? spent / limit : 0;
  const level = ratio >= 1 ? 'over' : ratio >= 0.8 ? 'warn' : 'ok';
  return h('div', { class: ['cost', `cost-${level}`] },
    h('div', { class: 'cost-text' },
      estimated ? approximately(money(spent), 'strong') : h('strong', null, money(spent)), ' of ', money(limit), ' budget',
      h('span', { class: 'muted' }, ` (${percent(spent, limit)})`),
      estimate !== null && estimate !== undefined ? h('span', { class: 'muted' }, ` · estimate ${money(estimate)}`) : null),
    h('div', { class: 'bar', role: 'presentation' },
      h('div', { class: 'bar-fill', style: { width: `${Math.min(100, ratio * 100).toFixed(1)}%` } }),
      estimate && limit ? h('div', { class: 'bar-mark', title: `estimate ${money(estimate)}`, style: { left: `${Math.min(100, (100 * estimate) / limit).toFixed(1)}%` } }) : null));
}

/** What "≈" means wherever a figure includes estimated usage (its tooltip and the usage page's legend). */
export const ESTIMATED_NOTE = 'Includes calls whose provider reported no usage: their tokens were estimated from the text, and their cost from those tokens.';

/** `text` marked as an estimate: "≈ text" with the reason as its tooltip (and for screen readers). */
export function approximately(text, tag = 'span') {
  return h(tag, { class: 'estimated', title: ESTIMATED_NOTE },
    h('span', { 'aria-hidden': 'true' }, '≈ '), h('span', { class: 'sr-only' }, 'about '), text);
}

/** "unknown" (never 0) for a figure nobody reported, with why as its tooltip. */
export function unknownFigure(why = 'No call in this sum reported it.') {
  return h('span', { class: 'unknown', title: why }, 'unknown');
}

export function progressBar(done, total, label) {
  return h('div', { class: 'progress' },
    h('div', { class: 'progress-text' }, label ?? `${number(done)} of ${number(total)}`),
    h('div', { class: 'bar', role: 'presentation' }, h('div', { class: 'bar-fill', style: { width: `${total ? Math.min(100, (100 * done) / total) : 0}%` } })));
}

// Dialogs -----------------------------------------------------------------------------------------

/**
 * A modal dialog (native <dialog>: focus is trapped, Esc cancels). `fields` are
 * `{name, label, type: 'text'|'textarea'|'number', required, value, help, rows}`.
 * Resolves with the field values, or null when cancelled. `onSubmit(values)` may throw an
 * ApiError: it is shown in the dialog, which stays open.
 */
export function askDialog({ title, message, fields = [], submitLabel = 'OK', danger = false, onSubmit, wide = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const errorArea = h('div', { class: 'dialog-error' });
    const inputs = {};
    const form = h('form', { method: 'dialog', class: 'dialog-form' });
    const body = fields.map((f) => {
      const id = uid('dlg-field');
      const helpId = f.help ? uid('dlg-help') : null;
      if (f.type === 'checkbox') {
        const box = h('input', { id, name: f.name, type: 'checkbox', 'aria-describedby': helpId, checked: Boolean(f.value) });
        inputs[f.name] = box;
        return h('div', { class: ['field', 'field-check'] }, h('label', { for: id, class: 'check' }, box, ' ', f.label),
          f.help ? h('p', { class: 'help', id: helpId }, f.help) : null);
      }
      const input = f.type === 'textarea'
        ? h('textarea', { id, name: f.name, rows: f.rows || 4, required: f.required, 'aria-describedby': helpId, spellcheck: f.code ? 'false' : null, class: f.code ? 'code-input' : null })
        : h('input', { id, name: f.name, type: f.type || 'text', required: f.required, 'aria-describedby': helpId, step: f.step, min: f.min });
      if (f.value !== undefined && f.value !== null) input.value = f.value;
      inputs[f.name] = input;
      return h('div', { class: 'field' },
        h('label', { for: id }, f.label, f.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null),
        input,
        f.help ? h('p', { class: 'help', id: helpId }, f.help) : null);
    });
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const submit = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'] }, submitLabel);
    append(form, message ? h('p', { class: 'dialog-message' }, message) : null, body, errorArea,
      h('div', { class: 'dialog-buttons' }, cancel, submit));
    const dialog = h('dialog', { class: ['dialog', wide ? 'dialog-wide' : null], 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title), form);
    document.body.append(dialog);
    let settled = false;
    // Cancelled, focus goes back where it was; done, the caller moves it to the result.
    const opener = document.activeElement;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      if (value === null) {
        // The page may have been redrawn meanwhile (live updates): then its twin, by data-action.
        const action = opener?.dataset?.action;
        const target = opener?.isConnected ? opener
          : action ? document.querySelector(`[data-action="${CSS.escape(action)}"]`) : document.querySelector('main h1');
        target?.focus();
      }
      resolve(value);
    };
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      // A checkbox gives 'yes' when ticked and '' when not, so every value is a string.
      const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.type === 'checkbox' ? (el.checked ? 'yes' : '') : el.value]));
      if (!onSubmit) {
        finish(values);
        return;
      }
      submit.disabled = true;
      replace(errorArea);
      try {
        const result = await onSubmit(values);
        finish(result === undefined ? values : result);
      } catch (error) {
        replace(errorArea, errorBox(error));
        submit.disabled = false;
      }
    });
    dialog.showModal();
    const first = fields.length ? inputs[fields[0].name] : submit;
    first.focus();
  });
}

// Plan actions ------------------------------------------------------------------------------------

/** How each action of `allowed_actions` is offered: label, style, and what it asks first. */
export const PLAN_ACTIONS = {
  approve: {
    label: 'Approve', primary: true,
    message: 'Approving freezes the acceptance tests (their SHA-256 is recorded): the executor will run exactly these tests.',
  },
  reject: {
    label: 'Reject', danger: true,
    fields: [{ name: 'reason', label: 'Why is this plan rejected?', type: 'textarea', required: true },
      { name: 'regenerate', label: 'Instead, ask for a new version with this reason as feedback', type: 'checkbox', help: 'The plan stays open; the model sees your reason with the current plan.', when: ['draft'] }],
    // With the box ticked, the reason starts a regeneration instead of ending the plan.
    instead: (values) => (values.regenerate ? ['regenerate', { feedback: values.reason.trim() }] : null),
  },
  regenerate: {
    label: 'Regenerate',
    fields: [{ name: 'feedback', label: 'What should the new version change?', type: 'textarea', rows: 5, help: 'The model sees this with the current plan.' }],
  },
  execute: { label: 'Execute', primary: true, message: 'The executor writes the code wave by wave, runs the acceptance tests after each wave and asks you when it is unsure.' },
  pause: { label: 'Pause', fields: [{ name: 'reason', label: 'Reason (optional)', type: 'text' }], message: 'The atoms in flight finish; no new atom starts.' },
  resume: { label: 'Resume', primary: true },
  cancel: {
    label: 'Cancel plan', danger: true, message: 'A cancelled plan cannot be resumed.',
    fields: [{ name: 'reason', label: 'Reason (optional)', type: 'text' }],
  },
};

/**
 * The buttons for the actions the server allows now (`GET …/status` → allowed_actions; "edit" is
 * offered on the tasks instead). `onDone(result)` runs after a successful action.
 */
export function planActionButtons(planId, allowed, { onDone, only, status = null } = {}) {
  const list = (allowed || []).filter((a) => a !== 'edit' && PLAN_ACTIONS[a] && (!only || only.includes(a)));
  return list.map((action) => {
    const spec = PLAN_ACTIONS[action];
    return h('button', {
      type: 'button', class: ['btn', spec.primary ? 'btn-primary' : null, spec.danger ? 'btn-danger' : null], 'data-action': action,
      onclick: async () => {
        let taken = action;
        const result = await askDialog({
          title: `${spec.label}?`, message: spec.message, submitLabel: spec.label, danger: spec.danger,
          fields: (spec.fields || []).filter((f) => !f.when || f.when.includes(status)),
          onSubmit: async (values) => {
            const instead = spec.instead?.(values);
            taken = instead ? instead[0] : action;
            if (instead) return api.post(`/masterplans/${planId}/${instead[0]}`, instead[1]);
            const body = {};
            for (const [k, v] of Object.entries(values)) if (v.trim()) body[k] = v.trim();
            return api.post(`/masterplans/${planId}/${action}`, body);
          },
        });
        if (result) {
          const queued = result.job_id ? ' The executor has been asked to start.' : '';
          notify(`${PLAN_ACTIONS[taken].label}: the plan is now ${words(result.status)}.${queued}`, 'success');
          onDone?.(result);
        }
      },
    }, spec.label);
  });
}

// What the person must do --------------------------------------------------------------------------

/**
 * The plan's status as the person should read it: a plan held only by reviews waiting for them is
 * "waiting for your review", not "blocked" (`status` is GET …/status).
 */
export function planBadge(status) {
  if (status.status === 'blocked' && status.pending_reviews > 0) {
    return h('span', { class: ['badge', 'status-blocked', 'waiting-for-review'] }, 'waiting for your review');
  }
  return badge(status.status);
}

/** The first pending review of a plan, or null (one request; the header's "open it" button). */
export async function firstPendingReview(planId, status) {
  if (!status?.pending_reviews) return null;
  try {
    const page = await api.get('/reviews', { query: { status: 'pending', plan_id: planId, limit: 1 } });
    return page.items?.[0]?.id || null;
  } catch {
    return null;
  }
}

/** Reviews waiting for the person: what they hold up, and a button that opens the first. */
export function reviewsWaiting(planId, status, firstReviewId) {
  const n = status.pending_reviews || 0;
  if (!n) return null;
  const blocked = status.status === 'blocked';
  return h('div', { class: 'attention', role: 'note' },
    h('p', null, h('strong', null, blocked ? 'Waiting for your review. ' : `${plural(n, 'review')} waiting for you. `),
      blocked ? `The plan goes on once you have resolved ${n === 1 ? 'it' : `all ${n}`}.`
        : 'The waves go on meanwhile; the plan completes only when every review is resolved.'),
    h('a', { class: 'btn btn-primary', href: firstReviewId ? `#/reviews/${firstReviewId}` : `#/reviews?plan=${encodeURIComponent(planId)}`, 'data-open-review': '' },
      n === 1 ? 'Open the review' : `Open the first of ${n} reviews`));
}

/**
 * The next step after a plan action: Execute and Resume go to the execution page; anything else shows
 * the plan again and moves the focus to its heading, where the new status is.
 */
export async function afterPlanAction(planId, result, refresh) {
  if (result && ['queued', 'executing'].includes(result.status)) {
    location.hash = `#/plans/${planId}/execution`;
    return;
  }
  await refresh();
  document.querySelector('main h1')?.focus();
}

// Questions before planning ---------------------------------------------------------------------------

/**
 * The discovery's clarifying questions for a plan in `awaiting_answers`: each with the answer the model
 * assumed, a box for the person's own, and two ways on (POST …/answer with the answers, or with none:
 * "use the assumed answers"). `onDone(result)` runs once the plan is generating again.
 */
export function questionsForm(planId, discovery, { onDone, headingLevel = 'h2' } = {}) {
  const questions = discovery?.clarifications || [];
  const titleId = uid('questions-title');
  const errorArea = h('div', { class: 'questions-error' });
  const boxes = questions.map(() => null);
  const items = questions.map((q, i) => {
    const id = uid('answer');
    const helpId = uid('assumed');
    boxes[i] = h('textarea', { id, name: `answer-${i}`, rows: 2, 'aria-describedby': helpId, placeholder: 'Leave empty to keep the assumed answer' });
    return h('li', { class: 'question' },
      h('label', { for: id, class: 'question-text' }, q.question),
      h('p', { class: 'assumed muted small', id: helpId }, h('span', { class: 'label' }, 'Assumed: '), q.assumed_answer),
      boxes[i]);
  });
  const submitWith = async (answers, button) => {
    for (const b of buttons) b.disabled = true;
    replace(errorArea);
    try {
      const result = await api.post(`/masterplans/${planId}/answer`, answers ? { answers } : {});
      const own = (answers || []).filter((a) => a !== null).length;
      notify(own ? `Thank you: the plan is being generated from your ${plural(own, 'answer')}.` : 'The plan is being generated with the assumed answers.', 'success');
      onDone?.(result);
    } catch (error) {
      replace(errorArea, errorBox(error));
      for (const b of buttons) b.disabled = false;
      button.focus();
    }
  };
  const send = h('button', { type: 'submit', class: 'btn btn-primary', 'data-answer': 'mine' }, 'Plan with my answers');
  const assume = h('button', { type: 'button', class: 'btn', 'data-answer': 'assumed' }, 'Use the assumed answers');
  const buttons = [send, assume];
  assume.addEventListener('click', () => submitWith(null, assume));
  const form = h('form', { class: 'questions-form' },
    h('ol', { class: 'questions-list' }, items), errorArea,
    h('div', { class: 'dialog-buttons' }, assume, send));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const answers = boxes.map((b) => (b.value.trim() ? b.value.trim() : null));
    submitWith(answers.some((a) => a !== null) ? answers : null, send);
  });
  return h('section', { class: 'card questions', 'aria-labelledby': titleId },
    h(headingLevel, { id: titleId }, questions.length === 1 ? 'A question before planning' : `${questions.length} questions before planning`),
    h('p', null, 'The discovery found ', questions.length === 1 ? 'a question only you can answer' : 'questions only you can answer',
      '. Each shows the answer MasterPlan assumed: write your own where it is wrong, and leave the rest empty.'),
    form);
}

/** Saves a downloaded Blob under `name` (the browser's download, from memory). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

// Code and diffs ------------------------------------------------------------------------------------

/** A code listing with line numbers. */
export function codeBlock(text, { label, maxLines = 4000, language = null } = {}) {
  // With a language, each line is pieces with a class (highlight.js), shown as text in spans.
  const all = language ? highlightLines(text ?? '', language) : lines(text ?? '');
  if (language && all.length && !all[all.length - 1].length && String(text ?? '').endsWith('\n')) all.pop();
  if (language && String(text ?? '') === '') all.length = 0;
  const shown = all.slice(0, maxLines);
  const source = (line) => (language
    ? (line.length ? line.map(([kind, part]) => (kind ? h('span', { class: kind }, part) : part)) : ' ')
    : line || ' ');
  const table = h('table', { class: ['code', language ? `lang-${language}` : null] },
    h('tbody', null, shown.map((line, i) => h('tr', null, h('td', { class: 'ln', 'aria-hidden': 'true' }, String(i + 1)), h('td', { class: 'src' }, source(line))))));
  return h('div', { class: 'code-wrap', tabindex: '0', role: 'region', 'aria-label': label || 'Code' },
    table,
    all.length > maxLines ? h('p', { class: 'muted' }, `… ${all.length - maxLines} more lines`) : null);
}

/** A unified line diff between two texts, with line numbers and +/- markers. */
export function diffView(oldText, newText, { oldLabel = 'before', newLabel = 'after', context = 3 } = {}) {
  const ops = diffLines(lines(oldText), lines(newText));
  const { added, removed } = diffStats(ops);
  const groups = hunks(ops, context);
  const summary = h('p', { class: 'diff-stats' },
    h('span', { class: 'diff-add-count' }, `+${added}`), ' ', h('span', { class: 'diff-del-count' }, `−${removed}`),
    ` lines from ${oldLabel} to ${newLabel}`);
  if (!groups.length) return h('div', { class: 'diff' }, summary, h('p', { class: 'muted' }, 'No differences.'));
  const rows = [];
  for (const hunk of groups) {
    rows.push(h('tr', { class: 'diff-hunk' }, h('td', { colspan: 4 }, `@@ ${oldLabel} line ${hunk.oldStart}, ${newLabel} line ${hunk.newStart} @@`)));
    for (const l of hunk.lines) {
      const kind = l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'ctx';
      rows.push(h('tr', { class: `diff-${kind}` },
        h('td', { class: 'ln', 'aria-hidden': 'true' }, l.oldLine ?? ''),
        h('td', { class: 'ln', 'aria-hidden': 'true' }, l.newLine ?? ''),
        h('td', { class: 'op' }, h('span', { class: 'sr-only' }, kind === 'add' ? 'added' : kind === 'del' ? 'removed' : ''), h('span', { 'aria-hidden': 'true' }, l.op === '-' ? '−' : l.op)),
        h('td', { class: 'src' }, l.text || ' ')));
    }
  }
  return h('div', { class: 'diff' }, summary,
    h('div', { class: 'code-wrap', tabindex: '0', role: 'region', 'aria-label': `Differences from ${oldLabel} to ${newLabel}` },
      h('table', { class: 'code diff-table' }, h('tbody', null, rows))));
}

/** Validator results of an attempt: `[{name, passed, message}]`. */
export function validationList(validation) {
  if (!Array.isArray(validation) || validation.length === 0) return h('p', { class: 'muted' }, 'No validator output.');
  return h('ul', { class: 'validation' }, validation.map((v) => {
    const name = v.name || v.validator || 'validator';
    const passed = v.passed === true;
    return h('li', { class: passed ? 'pass' : 'fail' },
      h('span', { class: ['badge', passed ? 'status-passed' : 'status-failed'] }, passed ? 'pass' : 'fail'), ' ',
      h('strong', null, name),
      v.message && v.message !== 'ok' ? h('pre', { class: 'validator-message' }, v.message) : null);
  }));
}

/** "Load more" for cursor lists: calls `load(cursor)` → page, `renderItems(items)`. */
export function pager(load, renderItems, { label = 'Load more' } = {}) {
  const button = h('button', { type: 'button', class: 'btn' }, label);
  const wrap = h('div', { class: 'pager' });
  let cursor = null;
  const next = async (first) => {
    button.disabled = true;
    try {
      const page = await load(first ? null : cursor);
      renderItems(page.items || [], first);
      cursor = page.next_cursor;
      replace(wrap, cursor ? button : null);
    } catch (error) {
      replace(wrap, errorBox(error, { retry: () => next(first) }));
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', () => next(false));
  return { el: wrap, reload: () => next(true) };
}

export { badge };
