// #/plans/{id}/execution — waves, atoms, Gate S and cost, live over the plan's event stream.
//
// GET …/status (counters, cost, allowed actions), …/waves (each with its latest gate result),
// …/gate (every evaluation, repair rounds included) and …/atoms (all pages) are loaded once and
// again after events (debounced); an atom's attempts come from GET /atoms/{id} when opened.

import { api, getAll } from '../api.js';
import {
  afterPlanAction, codeBlock, costMeter, diffView, empty, errorBox, firstPendingReview, liveIndicator, loading, notify, pageHeader,
  planActionButtons, planBadge, progressBar, reviewsWaiting, validationList, verificationBadge, verificationNote,
} from '../components.js';
import { badge, confidenceEl, debounce, duration, h, keepFocus, money, number, plural, replace, shortSha, timeEl, words } from '../dom.js';
import { describeEvent, LiveStream } from '../events.js';
import { link } from '../router.js';

const LOG_LIMIT = 200;

export default async function render(ctx) {
  const id = ctx.params.id;
  const live = liveIndicator();
  const state = { id, status: null, plan: null, waves: [], gates: [], atoms: [], open: new Set(), log: [] };
  ctx.state = state;
  state.headerEl = h('div');
  state.wavesEl = h('div', { class: 'waves' });
  state.logEl = h('ol', { class: 'event-log', role: 'log', 'aria-label': 'Live events', 'aria-live': 'polite' });
  state.live = live;
  replace(ctx.main, state.headerEl,
    h('div', { class: 'execution-layout' },
      h('section', { class: 'execution-main', 'aria-labelledby': 'waves-title' }, h('h2', { id: 'waves-title' }, 'Waves'), state.wavesEl),
      h('aside', { class: 'execution-side card', 'aria-labelledby': 'log-title' }, h('h2', { id: 'log-title' }, 'Live events'), state.logEl)));
  replace(state.wavesEl, loading());
  renderLog(state);
  await refresh(ctx);

  const refreshSoon = debounce(() => refresh(ctx), 600);
  const renderLogSoon = debounce(() => renderLog(state), 150);
  // The stream starts at event 0: the relay replays the plan's past events (the log shows the
  // latest LOG_LIMIT), then continues live. Only events newer than the page raise notices.
  const openedAt = Date.now() - 5000;
  const stream = new LiveStream(`/masterplans/${id}/events`, {
    lastEventId: 0,
    onStatus: live.set,
    onOpen: () => refreshSoon(),
    onEvent: (event) => {
      state.log.unshift(event);
      if (state.log.length > LOG_LIMIT) state.log.length = LOG_LIMIT;
      renderLogSoon();
      if (Date.parse(event.created_at) > openedAt) {
        if (event.type === 'cost_warning') notify(describeEvent(event), 'warning', { timeout: 10000 });
        if (event.type === 'masterplan_execution_complete') notify(describeEvent(event), 'success', { timeout: 10000 });
        if (event.type === 'review_created') notify('A review is waiting for you.', 'warning');
      }
      refreshSoon();
    },
  }).start();
  ctx.onCleanup(() => {
    refreshSoon.cancel();
    renderLogSoon.cancel();
    stream.close();
  });
}

async function refresh(ctx) {
  const { state } = ctx;
  try {
    const [status, plan, waves, gates, atoms] = await Promise.all([
      api.get(`/masterplans/${state.id}/status`),
      api.get(`/masterplans/${state.id}`),
      api.get(`/masterplans/${state.id}/waves`),
      api.get(`/masterplans/${state.id}/gate`),
      getAll(`/masterplans/${state.id}/atoms`),
    ]);
    const firstReview = await firstPendingReview(state.id, status);
    if (ctx.disposed) return;
    Object.assign(state, { status, plan, waves: waves.items || [], gates: gates.items || [], atoms, firstReview });
    ctx.setTitle(`Execution · ${plan.project_name || 'plan'}`);
    keepFocus(() => {
      renderHeader(ctx);
      renderWaves(ctx);
    });
  } catch (error) {
    if (!state.status) replace(state.headerEl, pageHeader('Execution'), errorBox(error, { retry: () => refresh(ctx) }));
    else notify('Could not refresh the execution view; retrying on the next event.', 'warning');
  }
}

/** What the executor's jobs are doing, in words that match the plan's status (a paused plan's job only finishes what is in flight). */
function jobsLine(status) {
  const jobs = status.live_jobs || [];
  const execution = jobs.find((j) => j.kind === 'execution');
  if (status.status === 'paused') return execution?.state === 'running' ? 'Pausing: the atoms in flight finish, no new atom starts.' : 'Paused: nothing runs until you resume.';
  if (['cancelled', 'completed', 'failed', 'blocked'].includes(status.status)) return null;
  return jobs.map((j) => `${j.kind} job ${j.state}`).join(', ') || null;
}

/**
 * After a review is resolved, what happened to the plan: the executor applies the decision, then the
 * plan resumes, completes, fails, or still waits for other reviews.
 */
function afterReviewNote(ctx) {
  if (!ctx.query.after_review) return null;
  const { status, id } = ctx.state;
  const s = status.status;
  const text = status.pending_reviews ? `Your decision is recorded. ${plural(status.pending_reviews, 'review')} of this plan still ${status.pending_reviews === 1 ? 'waits' : 'wait'} for you.`
    : s === 'blocked' ? 'Your decision is recorded; the executor is applying it…'
      : s === 'executing' || s === 'queued' ? 'Your decision was applied: the plan resumed and the executor is working on it.'
        : s === 'completed' ? `Your decision was applied: the plan is completed${status.verification === 'verified' ? ' and verified' : ''}.`
          : s === 'failed' ? `Your decision was applied: the plan failed${status.status_reason ? ` (${status.status_reason})` : ''}. Resume it to regenerate the rejected files.`
            : `The plan is ${words(s)}.`;
  return h('p', { class: ['after-review', s === 'completed' ? 'verified' : null], role: 'status' }, text,
    s === 'completed' ? [' ', h('a', { href: `#/plans/${id}`, class: 'btn btn-small btn-primary' }, 'See the result')] : null);
}

function renderHeader(ctx) {
  const { status, plan, id } = ctx.state;
  const actions = planActionButtons(id, status.allowed_actions, { onDone: (result) => afterPlanAction(id, result, () => refresh(ctx)) });
  const running = jobsLine(status);
  const attempts = ctx.state.atoms.reduce((n, a) => n + (a.attempts || 0), 0);
  const retries = ctx.state.atoms.reduce((n, a) => n + Math.max(0, (a.attempts || 0) - 1), 0);
  const atomsWaiting = ctx.state.atoms.filter((a) => a.status === 'needs_review').length;
  const tasksWaiting = (plan.phases || []).flatMap((p) => (p.milestones || []).flatMap((m) => m.tasks || [])).filter((t) => t.status === 'needs_review').length;
  replace(ctx.state.headerEl,
    pageHeader(`Execution: ${plan.project_name || 'plan'}`, {
      meta: [planBadge(status), ' ', verificationBadge(status), ' ', ctx.state.live.el],
      actions: [h('a', { href: `#/plans/${id}`, class: 'btn' }, 'Plan'), h('a', { href: `#/plans/${id}/workspace`, class: 'btn' }, 'Workspace')],
    }),
    afterReviewNote(ctx),
    status.pending_reviews ? reviewsWaiting(id, status, ctx.state.firstReview)
      : status.status_reason ? h('p', { class: 'status-reason', role: 'note' }, h('strong', null, `${words(status.status)}: `), status.status_reason) : null,
    verificationNote(status),
    h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Execution actions' }, actions,
      !actions.length && !status.pending_reviews ? h('span', { class: 'muted small' }, status.is_terminal ? 'This plan has finished.' : 'No action is possible now.') : null),
    h('div', { class: 'summary-grid' },
      h('div', { class: 'card stat' }, h('h2', null, 'Cost so far'), costMeter(status.actual_cost_usd, status.budget_usd, status.estimated_cost_usd, { estimated: status.actual_cost_estimated })),
      h('div', { class: 'card stat' }, h('h2', null, 'Atoms'), progressBar(status.completed_atoms, status.total_atoms, `${number(status.completed_atoms)} of ${number(status.total_atoms)} accepted`),
        h('p', { class: 'small muted' }, `${atomsWaiting ? `${atomsWaiting} waiting for review · ` : ''}${number(attempts)} attempts, ${number(retries)} retries`)),
      h('div', { class: 'card stat' }, h('h2', null, 'Waves'), progressBar(ctx.state.waves.filter((w) => w.status === 'passed' || w.status === 'waived').length, status.total_waves,
        // A waived wave failed its gate and was accepted with a written reason: finished, never "passed".
        `${ctx.state.waves.filter((w) => w.status === 'passed').length} of ${number(status.total_waves)} passed`
          + `${ctx.state.waves.some((w) => w.status === 'waived') ? `, ${ctx.state.waves.filter((w) => w.status === 'waived').length} waived` : ''}`
          + `${ctx.state.waves.some((w) => w.status === 'cancelled') ? `, ${ctx.state.waves.filter((w) => w.status === 'cancelled').length} cancelled` : ''}`
          + `${status.current_wave && !['cancelled', 'completed'].includes(status.status) ? `, current: ${status.current_wave}` : ''}`)),
      h('div', { class: 'card stat' }, h('h2', null, 'Tasks'), progressBar(status.completed_tasks, status.total_tasks,
        `${number(status.completed_tasks)} of ${number(status.total_tasks)} done${tasksWaiting ? `, ${tasksWaiting} waiting for review` : ''}${status.failed_tasks ? `, ${status.failed_tasks} failed` : ''}`),
        running ? h('p', { class: 'small muted jobs-line' }, running) : null,
        plan.actual_duration_seconds ? h('p', { class: 'small muted' }, `Took ${duration(plan.actual_duration_seconds)}`) : null)));
}

function gateSummary(gate) {
  if (!gate) return h('span', { class: 'muted' }, 'not evaluated yet');
  if (gate.must_total === 0 && gate.should_total === 0) {
    return h('span', { class: ['gate', gate.passed ? 'gate-pass' : 'gate-fail'] }, h('strong', null, gate.passed ? 'Gate S passed' : 'Gate S failed'), ': no acceptance test was due yet');
  }
  return h('span', { class: ['gate', gate.passed ? 'gate-pass' : 'gate-fail'] },
    h('strong', null, gate.passed ? 'Gate S passed' : 'Gate S failed'),
    gate.repair_round ? ` (repair round ${gate.repair_round})` : '',
    `: MUST ${gate.must_passed}/${gate.must_total}, SHOULD ${gate.should_passed}/${gate.should_total}`);
}

function renderWaves(ctx) {
  const { waves, gates, atoms, plan } = ctx.state;
  if (!waves.length) {
    replace(ctx.state.wavesEl, empty(['approved', 'queued'].includes(plan.status)
      ? 'Waves appear when the executor has planned the atoms.' : 'This plan has no waves yet.'));
    return;
  }
  const unassigned = atoms.filter((a) => !a.wave);
  replace(ctx.state.wavesEl,
    waves.map((w) => {
      const waveAtoms = atoms.filter((a) => a.wave === w.number);
      const rounds = gates.filter((g) => g.wave === w.number);
      const failing = (w.gate?.failing_tests || []);
      return h('section', { class: ['wave', 'card', `wave-${w.status}`], 'aria-labelledby': `wave-${w.number}` },
        h('header', { class: 'wave-head' },
          h('h3', { id: `wave-${w.number}` }, `Wave ${w.number}`), badge(w.status),
          h('span', { class: 'muted small' }, `${plural(w.atom_count, 'atom')}${w.repair_rounds ? ` · ${plural(w.repair_rounds, 'repair round')}` : ''}${w.commit_sha ? ` · commit ${shortSha(w.commit_sha)}` : ''}`),
          w.started_at ? h('span', { class: 'muted small' }, ' · ', w.finished_at
            ? `took ${duration((Date.parse(w.finished_at) - Date.parse(w.started_at)) / 1000)}` : h('span', null, 'started ', timeEl(w.started_at))) : null),
        h('p', { class: 'gate-line' }, w.status === 'cancelled' && !w.gate ? h('span', { class: 'muted' }, 'not run: the plan was cancelled') : gateSummary(w.gate)),
        rounds.length > 1 ? h('ol', { class: 'gate-rounds small' }, rounds.map((g) => h('li', null, gateSummary(g)))) : null,
        failing.length ? h('div', { class: 'failing' }, h('h4', null, 'Failing tests'),
          h('ul', null, failing.map((t) => h('li', null, h('code', null, t.name || t.test_id), ` ${t.status || 'fail'}`, t.priority ? ` (${String(t.priority).toUpperCase()})` : ''))),
          // Their output, per run and per test id, is with the evidence of the tasks they cover.
          h('p', { class: 'small' }, h('a', { href: link(`/plans/${ctx.state.id}`, { tab: 'evidence' }) }, 'Output of each run, with the evidence'))) : null,
        atomTable(ctx, waveAtoms));
    }),
    unassigned.length ? h('section', { class: 'wave card' }, h('h3', null, 'Not in a wave yet'), atomTable(ctx, unassigned)) : null);
}

function atomTable(ctx, atoms) {
  if (!atoms.length) return h('p', { class: 'muted small' }, 'No atoms.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table atoms-table' },
    h('thead', null, h('tr', null, ['File', 'Task', 'Status', 'Attempts', 'Confidence', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, atoms.flatMap((a) => {
      const detailRow = h('tr', { class: 'atom-detail-row', hidden: !ctx.state.open.has(a.id) }, h('td', { colspan: 6 }, h('div', { class: 'atom-detail' })));
      const toggle = h('button', { type: 'button', class: 'btn btn-small', 'aria-expanded': String(ctx.state.open.has(a.id)), 'data-key': `atom-${a.id}` },
        ctx.state.open.has(a.id) ? 'Hide' : 'Attempts', h('span', { class: 'sr-only' }, ` of ${a.file_path}`));
      const show = async () => {
        const container = detailRow.querySelector('.atom-detail');
        replace(container, loading());
        try {
          replace(container, atomDetail(ctx, await api.get(`/atoms/${a.id}`)));
        } catch (error) {
          replace(container, errorBox(error));
        }
      };
      toggle.addEventListener('click', () => {
        const opening = detailRow.hidden;
        detailRow.hidden = !opening;
        toggle.setAttribute('aria-expanded', String(opening));
        toggle.firstChild.textContent = opening ? 'Hide' : 'Attempts';
        if (opening) {
          ctx.state.open.add(a.id);
          show();
        } else ctx.state.open.delete(a.id);
      });
      if (ctx.state.open.has(a.id)) show();
      return [h('tr', { 'data-atom-id': a.id },
        h('td', null, h('code', null, a.file_path)),
        h('td', { 'data-label': 'Task' }, h('a', { href: link(`/plans/${ctx.state.id}`, { tab: 'tasks', task: a.task_number }) }, `#${a.task_number}`),
          ' ', h('a', { class: 'small', href: link(`/plans/${ctx.state.id}`, { tab: 'evidence', task: a.task_number }) }, 'evidence')),
        h('td', null, ctx.state.plan.status === 'cancelled' && ['running', 'pending'].includes(a.status) ? badge('cancelled') : badge(a.status)),
        h('td', { 'data-label': 'Attempts', class: 'attempts' }, String(a.attempts)),
        h('td', { 'data-label': 'Confidence' }, confidenceEl(a.confidence)),
        h('td', null, toggle)), detailRow];
    }))));
}

/** An atom's attempts: origin, temperature, validators, feedback, output and diff to the previous one. */
export function atomDetail(ctx, atom) {
  const attempts = atom.attempt_history || [];
  return h('div', null,
    atom.pending_review_id ? h('p', null, h('a', { href: `#/reviews/${atom.pending_review_id}`, class: 'btn btn-attention' }, 'Open the pending review')) : null,
    attempts.length ? null : h('p', { class: 'muted' }, 'No attempt yet.'),
    attempts.slice().reverse().map((x, index, list) => {
      const previous = list[index + 1];
      return h('details', { class: 'attempt', open: index === 0 },
        h('summary', null, `Attempt ${x.attempt}`, ' · ', words(x.origin), x.temperature !== null ? ` · temperature ${Number(x.temperature).toFixed(1)}` : '',
          x.accepted ? h('span', { class: 'badge status-succeeded' }, 'accepted') : null,
          h('span', { class: 'muted small' }, ` · ${number(x.input_tokens)} in / ${number(x.output_tokens)} out · ${money(x.cost_usd)}`)),
        h('h5', null, 'Validators'), validationList(x.validation),
        x.error_feedback ? [h('h5', null, 'Feedback carried to the next attempt'), h('pre', { class: 'feedback' }, x.error_feedback)] : null,
        x.output !== null && x.output !== undefined
          ? (previous && previous.output !== null && previous.output !== undefined
            ? [h('h5', null, `Changes since attempt ${previous.attempt}`), diffView(previous.output, x.output, { oldLabel: `attempt ${previous.attempt}`, newLabel: `attempt ${x.attempt}` }),
              h('details', null, h('summary', null, 'Full output'), codeBlock(x.output, { label: `Output of attempt ${x.attempt}` }))]
            : [h('h5', null, 'Output'), codeBlock(x.output, { label: `Output of attempt ${x.attempt}` })])
          : h('p', { class: 'muted' }, 'No usable output.'));
    }));
}

function renderLog(state) {
  replace(state.logEl, state.log.length
    ? state.log.map((e) => h('li', { class: `event event-${e.type}` }, timeEl(e.created_at), ' ', describeEvent(e)))
    : h('li', { class: 'muted' }, 'Events appear here as the executor works.'));
}

