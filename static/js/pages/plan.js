// #/plans/{id}?tab=tasks|graph|tests|evidence|discovery|history — the plan under review.
//
// GET /masterplans/{id} (whole tree) and GET …/status (allowed actions, costs) drive the header
// and the buttons; tabs load …/acceptance-tests, …/discovery, …/versions and …/history on demand.
// Tasks of a draft are edited in place (PATCH …/tasks/{number}). The plan's event stream keeps
// everything current (generation progress, status changes).

import { api, ApiError, describeError, getBlob, session } from '../api.js';
import {
  askDialog, codeBlock, costMeter, diffView, empty, errorBox, facts, liveIndicator, loading, notify, pageHeader, pager, planActionButtons,
  afterPlanAction, firstPendingReview, planBadge, questionsForm, reviewsWaiting, saveBlob, verificationBadge, verificationNote,
} from '../components.js';
import { dagSvg, dependents, layersOf } from '../dag.js';
import { badge, dateTime, debounce, duration, h, keepFocus, money, number, plural, priorityBadge, replace, shortSha, statusWords, timeEl, uid, words } from '../dom.js';
import { describeEvent, liveAnswer, LiveStream } from '../events.js';
import { link } from '../router.js';
import { changeCount, planChanges, versionChangesView } from '../versionChanges.js';

const TABS = [
  { key: 'summary', label: 'Summary', when: (plan) => FINISHED.includes(plan.status) },
  { key: 'tasks', label: 'Tasks' },
  { key: 'graph', label: 'Dependencies' },
  { key: 'tests', label: 'Acceptance tests' },
  { key: 'evidence', label: 'Evidence' },
  { key: 'discovery', label: 'Discovery' },
  { key: 'history', label: 'Versions & history' },
];

/** Statuses a plan's execution ends in: the plan then opens on its summary (completed) or offers it. */
const FINISHED = ['completed', 'failed', 'cancelled'];
const EXECUTION_STATUSES = ['approved', 'queued', 'executing', 'completed', 'failed', 'blocked', 'paused', 'cancelled'];
const GENERATION_EVENTS = ['discovery_generation_start', 'discovery_tokens_progress', 'discovery_generation_complete',
  'masterplan_generation_start', 'masterplan_tokens_progress', 'masterplan_generation_complete', 'masterplan_generation_failed'];

function allTasks(plan) {
  return (plan.phases || []).flatMap((p) => (p.milestones || []).flatMap((m) => m.tasks || []));
}

function taskLink(planId, n) {
  return link(`/plans/${planId}`, { tab: 'tasks', task: n });
}

export default async function render(ctx) {
  const id = ctx.params.id;
  const state = {
    id, plan: null, status: null, tests: null, editing: 0, generationLog: [],
  };
  ctx.state = state;
  const live = liveIndicator();
  state.live = live;
  state.headerEl = h('div');
  state.tabsEl = h('nav', { class: 'tabs', 'aria-label': 'Plan sections' });
  state.panelEl = h('section', { class: 'tab-panel', 'aria-live': 'off' });
  replace(ctx.main, state.headerEl, state.tabsEl, state.panelEl);

  await refresh(ctx);

  const refreshSoon = debounce(() => refresh(ctx, { quiet: true }), 700);
  // While the plan is generating, replay its events from the start so the progress shown so far
  // is complete; otherwise only what happens from now on matters.
  const stream = new LiveStream(`/masterplans/${id}/events`, {
    lastEventId: state.plan?.status === 'generating' ? 0 : null,
    onStatus: live.set,
    onOpen: () => refreshSoon(),
    onEvent: (event) => {
      if (GENERATION_EVENTS.includes(event.type)) {
        state.generationLog.push(event);
        renderGenerationLog(state);
      }
      if (event.type === 'masterplan_generation_complete' && Date.parse(event.created_at) > Date.now() - 60000) {
        // A regeneration that changed nothing says so, rather than looking like a new plan.
        if (event.data?.same_as_version) {
          notify(`Version ${event.data.version} is the same as version ${event.data.same_as_version}: the model returned the same plan and tests. Say more precisely what should change, or edit the tasks.`, 'warning', { timeout: 15000 });
        } else notify('The plan is ready for review.', 'success');
      }
      if (event.type === 'acceptance_test_result' || event.type === 'gate_validation_result') state.tests = null;
      refreshSoon();
    },
  }).start();
  ctx.onCleanup(() => {
    refreshSoon.cancel();
    stream.close();
  });
}

/** Same plan, another tab or task: only the panel changes. */
export async function update(ctx) {
  renderTabs(ctx);
  await renderPanel(ctx);
}

async function refresh(ctx, { quiet = false } = {}) {
  const { state } = ctx;
  try {
    const [plan, status] = await Promise.all([api.get(`/masterplans/${state.id}`), api.get(`/masterplans/${state.id}/status`)]);
    state.firstReview = await firstPendingReview(state.id, status);
    if (ctx.disposed) return;
    const changed = state.plan && (state.plan.updated_at !== plan.updated_at || state.plan.status !== plan.status);
    state.plan = plan;
    state.status = status;
    if (plan.status === 'awaiting_answers' && !state.questionsEl) {
      // Made once and kept across refreshes, so what the person is typing survives live updates.
      const discovery = await api.get(`/masterplans/${state.id}/discovery`);
      if (ctx.disposed) return;
      state.questionsEl = questionsForm(state.id, discovery, { onDone: () => refresh(ctx) });
    } else if (plan.status !== 'awaiting_answers') state.questionsEl = null;
    ctx.setTitle(plan.project_name || 'Plan');
    keepFocus(() => {
      renderHeader(ctx);
      renderTabs(ctx);
    });
    if (state.editing) {
      // Says what saving will do: only a draft takes edits, and an edit sends only the fields changed
      // in the form (taskEditor), which replace those fields in the latest version.
      if (changed) {
        notify(plan.status !== 'draft'
          ? `The plan is now ${statusWords(plan.status)}: saving your edit will be refused, because only a draft can be edited. Cancel the edit to see the plan as it is.`
          : 'The plan changed while you edit a task (another tab or person). Saving sends only the fields you changed: they replace those fields in the latest version, and every other change stays.',
        plan.status !== 'draft' ? 'warning' : 'info', { timeout: 15000 });
      }
      return;
    }
    if (!quiet || changed || !state.panelEl.childElementCount) await renderPanel(ctx, { keepScroll: quiet });
  } catch (error) {
    if (!quiet || !state.plan) replace(state.headerEl, pageHeader('Plan'), errorBox(error, { retry: () => refresh(ctx) }));
  }
}

function renderHeader(ctx) {
  const { plan, status, id } = ctx.state;
  const allowed = status.allowed_actions || [];
  const buttons = planActionButtons(id, allowed, { status: plan.status, onDone: (result) => afterPlanAction(id, result, () => refresh(ctx)) });
  const links = [];
  if (EXECUTION_STATUSES.includes(plan.status) || plan.total_waves > 0) {
    links.push(h('a', { href: `#/plans/${id}/execution`, class: 'btn' }, 'Execution'));
  }
  if (['executing', 'completed', 'failed', 'blocked', 'paused', 'cancelled'].includes(plan.status)) {
    links.push(h('a', { href: `#/plans/${id}/workspace`, class: 'btn' }, 'Workspace'));
  }
  const title = plan.project_name || (plan.status === 'generating' ? 'Plan being generated'
    : plan.status === 'awaiting_answers' ? 'Plan waiting for your answers' : 'Untitled plan');
  const stack = plan.tech_stack || {};
  const stackItems = [stack.language, stack.framework, stack.database, ...(Array.isArray(stack.other) ? stack.other : [])].filter(Boolean);

  const actionsHelp = allowed.length === 0
    ? h('p', { class: 'muted small' }, plan.status === 'generating' ? 'No action is possible until the executor has written the plan.' : 'No action is possible in this state.')
    : plan.status === 'awaiting_answers' ? h('p', { class: 'muted small' }, 'Answer the questions below to go on, or reject the request.') : null;
  replace(ctx.state.headerEl,
    pageHeader(title, {
      meta: [planBadge(status), ' ', verificationBadge(status.verification ? status : plan), ' ', stackBadge(plan), ` version ${plan.version} · created `, timeEl(plan.created_at), ' ', ctx.state.live.el],
      subtitle: plan.summary,
    }),
    status.pending_reviews ? reviewsWaiting(id, status, ctx.state.firstReview)
      : plan.status_reason ? h('p', { class: 'status-reason', role: 'note' }, h('strong', null, `${statusWords(plan.status)}: `), plan.status_reason) : null,
    verificationNote(status.verification ? status : plan),
    h('p', { class: 'request-quote' }, h('span', { class: 'muted' }, 'Request: '), h('q', null, plan.request)),
    h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Plan actions' }, buttons, links, actionsHelp),
    ctx.state.questionsEl,
    h('div', { class: 'summary-grid' },
      // One cost card: spent against the budget, with the estimate; in demo mode, that it costs nothing.
      h('div', { class: 'card stat cost-card' }, h('h2', null, 'Cost'),
        session.user?.demo_model === true
          ? h('p', { class: 'demo-free' }, h('strong', null, 'Free'), ': a scripted demo model answers, so no call costs anything',
            ` (budget ${money(status.budget_usd ?? plan.budget_usd)}).`)
          : costMeter(status.actual_cost_usd ?? plan.actual_cost_usd, status.budget_usd ?? plan.budget_usd, status.estimated_cost_usd ?? plan.estimated_cost_usd,
            { estimated: status.actual_cost_estimated ?? plan.actual_cost_estimated })),
      h('div', { class: 'card stat' }, h('h2', null, 'Time'),
        facts([['Estimate', duration(plan.estimated_duration_seconds)],
          plan.actual_duration_seconds ? ['Took', duration(plan.actual_duration_seconds)] : null])),
      h('div', { class: 'card stat' }, h('h2', null, 'Size'),
        facts([['Phases', number(plan.total_phases)], ['Tasks', tasksLine(plan)],
          plan.total_atoms ? ['Atoms', `${number(plan.completed_atoms)} of ${number(plan.total_atoms)}`] : null,
          plan.total_waves ? ['Waves', `${plan.current_wave ?? 0} of ${plan.total_waves}`] : null])),
      h('div', { class: 'card stat' }, h('h2', null, 'Tech stack'),
        stackItems.length ? h('ul', { class: 'chips' }, stackItems.map((t) => h('li', null, t))) : h('p', { class: 'muted' }, '—'),
        stack.test_command ? h('p', { class: 'small' }, 'Tests: ', h('code', null, stack.test_command)) : null)),
    plan.status === 'generating' || ctx.state.generationLog.length ? generationBox(ctx.state) : null);
}

/** "3 done of 7, 1 waiting for review, 1 failed": a task waiting for a review is not done. */
function tasksLine(plan) {
  const waiting = allTasks(plan).filter((t) => t.status === 'needs_review').length;
  return `${number(plan.completed_tasks)} done of ${number(plan.total_tasks)}${waiting ? `, ${waiting} waiting for review` : ''}`
    + `${plan.failed_tasks ? `, ${plan.failed_tasks} failed` : ''}`;
}

const STACK_NAMES = { python: 'Python', node: 'Node.js', go: 'Go' };

/** The stack that runs the plan (from the API's `stack`); nothing while the plan has no tech stack yet. */
function stackBadge(plan) {
  if (!plan.tech_stack || !plan.tech_stack.test_command) return null;
  if (!plan.stack) {
    return h('span', { class: ['badge', 'status-failed', 'stack-badge'], title: 'No stack MasterPlan supports runs this test command.' }, 'unsupported stack');
  }
  return h('span', { class: ['badge', 'stack-badge', `stack-${plan.stack}`], title: `Runs as a ${STACK_NAMES[plan.stack] || plan.stack} project (${plan.tech_stack.test_command})` },
    STACK_NAMES[plan.stack] || plan.stack);
}

function generationBox(state) {
  state.generationEl = h('ol', { class: 'event-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Generation progress' });
  state.liveAnswerEl = h('div', { class: 'live-answer-area' });
  renderGenerationLog(state);
  return h('section', { class: 'card generation' }, h('h2', null, 'Generation progress'), state.generationEl, state.liveAnswerEl);
}

function renderGenerationLog(state) {
  if (!state.generationEl) return;
  // Token progress replaces the previous line of the same kind instead of piling up.
  const shown = [];
  for (const event of state.generationLog) {
    const last = shown[shown.length - 1];
    if (last && last.type === event.type && event.type.endsWith('_tokens_progress')) shown[shown.length - 1] = event;
    else shown.push(event);
  }
  replace(state.generationEl, shown.length
    ? shown.map((e) => h('li', { class: `event event-${e.type}` }, timeEl(e.created_at), ' ', describeEvent(e)))
    : h('li', { class: 'muted' }, 'Waiting for the executor to start…'));
  // The answer being written, while the plan is not stored yet.
  if (state.liveAnswerEl) {
    replace(state.liveAnswerEl, state.plan?.status === 'generating' ? liveAnswer(state.generationLog, h) : null);
    state.liveAnswerEl.querySelector('.live-text')?.scrollTo(0, 1e9);
  }
}

function tabsOf(plan) {
  return TABS.filter((t) => !t.when || (plan && t.when(plan)));
}

function renderTabs(ctx) {
  const active = currentTab(ctx);
  replace(ctx.state.tabsEl, h('ul', null, tabsOf(ctx.state.plan).map((t) => h('li', null,
    h('a', { href: link(`/plans/${ctx.state.id}`, { tab: t.key }), 'aria-current': t.key === active ? 'page' : null, class: 'tab' }, t.label)))));
}

/** The tab asked for, else the summary of a completed plan, else its tasks. */
function currentTab(ctx) {
  const tabs = tabsOf(ctx.state.plan);
  if (tabs.some((t) => t.key === ctx.query.tab)) return ctx.query.tab;
  return ctx.state.plan?.status === 'completed' && !ctx.query.task ? 'summary' : 'tasks';
}

async function renderPanel(ctx, { keepScroll = false } = {}) {
  const { state } = ctx;
  if (!state.plan) return;
  const tab = currentTab(ctx);
  const scroll = window.scrollY;
  const panel = state.panelEl;
  panel.setAttribute('aria-label', TABS.find((t) => t.key === tab).label);
  try {
    if (tab === 'tasks') replace(panel, tasksPanel(ctx));
    else if (tab === 'summary') replace(panel, await summaryPanel(ctx));
    else if (tab === 'graph') replace(panel, graphPanel(ctx));
    else {
      if (!keepScroll) replace(panel, loading());
      if (tab === 'tests') replace(panel, await testsPanel(ctx));
      else if (tab === 'evidence') replace(panel, await evidencePanel(ctx));
      else if (tab === 'discovery') replace(panel, await discoveryPanel(ctx));
      else if (tab === 'history') replace(panel, await historyPanel(ctx));
    }
  } catch (error) {
    replace(panel, errorBox(error, { retry: () => renderPanel(ctx) }));
  }
  if (keepScroll) window.scrollTo(0, scroll);
  if (tab === 'tasks' && ctx.query.task && !keepScroll) {
    const target = panel.querySelector(`#task-${CSS.escape(ctx.query.task)}`);
    if (target) {
      target.classList.add('highlight');
      target.scrollIntoView({ block: 'start' });
      target.focus({ preventScroll: true });
    }
  }
}

// Summary -------------------------------------------------------------------------------------------

/** How many reviews ended how: "1 approved, 1 edited". */
function reviewCounts(byStatus) {
  const entries = Object.entries(byStatus || {}).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([status, n]) => `${n} ${words(status)}`).join(', ') : 'none needed';
}

/**
 * What a finished plan built and how it was verified (GET …/summary): files, lines and commits; tests,
 * gate rounds, reviews and waivers; time; tokens and cost; and the next steps, with the download.
 */
async function summaryPanel(ctx) {
  const { state } = ctx;
  const s = await api.get(`/masterplans/${state.id}/summary`);
  const v = s.verified;
  const u = s.usage;
  const demo = session.user?.demo_model === true;
  const built = s.built
    ? facts([['Files', number(s.built.files)], ['Lines', number(s.built.lines)],
      ['Commits', h('details', { class: 'commit-history' }, h('summary', null, `${number(s.built.commits)}: a commit per wave and per repair round`),
        h('ol', { class: 'commit-log small' }, (s.built.history || []).map((c) => h('li', null, h('code', { title: c.commit }, shortSha(c.commit)), ' ', c.subject))))],
      ['Last commit', h('code', { title: s.built.head }, shortSha(s.built.head))]])
    : h('p', { class: 'muted' }, 'The workspace is not on this server, or has no commit yet.');
  const verdict = s.verification === 'verified'
    ? `All ${number(v.tests)} acceptance tests passed on the last commit.`
    : s.verification === 'accepted_with_waivers' ? `Accepted with ${plural(v.waivers, 'waiver')}: not every acceptance test passed.`
      : `The plan is ${words(s.status)}: it was not verified.`;
  const download = h('button', { type: 'button', class: 'btn btn-primary', 'data-download': '' }, `Download ${s.next_steps.archive_name}`);
  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      const blob = await getBlob(s.next_steps.download_path.replace(/^\/api\/v1/, ''));
      saveBlob(blob, blob.fileName || s.next_steps.archive_name);
      notify('The archive is downloading.', 'success');
    } catch (error) {
      notify(describeError(error).title, 'error');
    } finally {
      download.disabled = false;
    }
  });
  return h('div', { class: 'completion-summary' },
    h('p', { class: ['summary-verdict', s.verification === 'verified' ? 'verified' : null] }, verdict),
    h('div', { class: 'summary-grid' },
      h('section', { class: 'card stat' }, h('h2', null, 'What was built'), built),
      h('section', { class: 'card stat' }, h('h2', null, 'How it was verified'),
        facts([['Tests', `${number(v.tests)}: ${number(v.must_tests)} MUST, ${number(v.should_tests)} SHOULD`],
          ['Test runs', number(v.test_runs)],
          ['Gate S', `${plural(v.gate_evaluations, 'evaluation')} over ${plural(v.waves, 'wave')}, ${plural(v.repair_rounds, 'repair round')}`],
          ['Reviews', reviewCounts(v.reviews)], ['Waivers', v.waivers ? number(v.waivers) : 'none'],
          v.final_commit ? ['Final gate on', h('code', { title: v.final_commit }, shortSha(v.final_commit))] : null])),
      h('section', { class: 'card stat' }, h('h2', null, 'Time'),
        facts([['Took', duration(s.time.duration_seconds)], ['Estimated', duration(s.time.estimated_duration_seconds)],
          ['Started', s.time.started_at ? dateTime(s.time.started_at) : '—'], ['Finished', s.time.completed_at ? dateTime(s.time.completed_at) : '—']])),
      h('section', { class: 'card stat' }, h('h2', null, 'Tokens and cost'),
        facts([['Model calls', number(u.calls)], ['Tokens', `${number(u.input_tokens)} in, ${number(u.output_tokens)} out${u.usage_estimated ? ' (partly estimated)' : ''}`],
          ['Cost', demo ? 'free: a scripted demo model answered' : `${money(u.cost_usd)} of ${money(u.budget_usd)} budget (estimate ${money(u.estimated_cost_usd)})`]]))),
    h('section', { class: 'card next-steps' }, h('h2', null, 'Next steps'),
      s.next_steps.download_path ? h('p', null, download) : null,
      h('ol', null, s.next_steps.steps.map((step) => h('li', null, step.title,
        step.command ? h('pre', { class: 'command' }, h('code', null, step.command)) : null)))));
}

// Tasks ---------------------------------------------------------------------------------------------

function tasksPanel(ctx) {
  const { plan, status, id } = ctx.state;
  const tasks = allTasks(plan);
  if (!tasks.length) return empty(plan.status === 'generating' ? 'The tasks appear here when the plan has been generated.' : 'This plan has no tasks.');
  const neededBy = dependents(tasks);
  const canEdit = (status.allowed_actions || []).includes('edit');
  const musts = tasks.reduce((n, t) => n + (t.acceptance || []).filter((c) => c.priority === 'must').length, 0);
  const shoulds = tasks.reduce((n, t) => n + (t.acceptance || []).filter((c) => c.priority === 'should').length, 0);
  return h('div', { class: 'tasks' },
    h('p', { class: 'muted' }, `${plural(tasks.length, 'task')} in ${plural(plan.phases.length, 'phase')}; acceptance criteria: ${musts} MUST, ${shoulds} SHOULD.`,
      canEdit ? ' This plan is a draft: you can edit its tasks before approving it.' : ''),
    plan.phases.map((phase) => h('section', { class: 'phase' },
      h('h2', null, h('span', { class: 'phase-kind' }, phase.kind), ` Phase ${phase.number}: ${phase.name}`),
      phase.description ? h('p', { class: 'muted' }, phase.description) : null,
      (phase.milestones || []).map((m) => h('section', { class: 'milestone' },
        h('h3', null, `Milestone ${phase.number}.${m.number}: ${m.name}`),
        m.description ? h('p', { class: 'muted' }, m.description) : null,
        h('div', { class: 'task-list' }, (m.tasks || []).map((t) => taskCard(ctx, t, neededBy.get(t.number) || [], canEdit))))))));
}

function taskCard(ctx, task, neededBy, canEdit) {
  const { id } = ctx.state;
  const card = h('article', { class: 'task card', id: `task-${task.number}`, tabindex: '-1', 'aria-labelledby': `task-${task.number}-title` });
  const view = () => replace(card,
    h('header', { class: 'task-head' },
      h('span', { class: 'task-number' }, `#${task.number}`),
      h('h4', { id: `task-${task.number}-title` }, task.name),
      h('span', { class: ['badge', `cx-${task.complexity}`] }, task.complexity),
      task.status ? badge(task.status) : null,
      EXECUTION_STATUSES.includes(ctx.state.plan.status)
        ? h('a', { class: 'btn btn-small', href: link(`/plans/${id}`, { tab: 'evidence', task: task.number }) }, 'Evidence', h('span', { class: 'sr-only' }, ` of task ${task.number}`)) : null,
      canEdit ? h('button', { type: 'button', class: 'btn btn-small task-edit', onclick: () => edit() }, 'Edit', h('span', { class: 'sr-only' }, ` task ${task.number}`)) : null),
    task.description ? h('p', null, task.description) : null,
    h('div', { class: 'task-meta' },
      h('div', null, h('span', { class: 'label' }, 'Files '), (task.files || []).length ? h('ul', { class: 'inline-list' }, task.files.map((f) => h('li', null, h('code', null, f)))) : h('span', { class: 'muted' }, 'none')),
      h('div', null, h('span', { class: 'label' }, 'Depends on '), (task.depends_on || []).length
        ? h('ul', { class: 'inline-list' }, task.depends_on.map((n) => h('li', null, h('a', { href: taskLink(id, n) }, `#${n}`))))
        : h('span', { class: 'muted' }, 'nothing')),
      h('div', null, h('span', { class: 'label' }, 'Needed by '), neededBy.length
        ? h('ul', { class: 'inline-list' }, neededBy.map((n) => h('li', null, h('a', { href: taskLink(id, n) }, `#${n}`))))
        : h('span', { class: 'muted' }, 'no task'))),
    (task.subtasks || []).length ? h('div', null, h('h5', null, 'Subtasks'),
      h('ol', { class: 'subtasks' }, task.subtasks.map((s) => h('li', null, h('strong', null, s.name), s.description ? ` — ${s.description}` : '')))) : null,
    (task.acceptance || []).length ? h('div', null, h('h5', null, 'Acceptance criteria'),
      h('ul', { class: 'criteria' }, task.acceptance.map((c) => h('li', null, priorityBadge(c.priority), ' ', c.criterion)))) : null);

  const edit = () => {
    ctx.state.editing += 1;
    replace(card, taskEditor(ctx, task, {
      onCancel: () => {
        ctx.state.editing -= 1;
        view();
        card.querySelector('.task-edit')?.focus();
      },
      onSaved: async (tree) => {
        ctx.state.editing -= 1;
        ctx.state.plan = tree;
        notify(`Task ${task.number} saved; a new version was recorded.`, 'success');
        await refresh(ctx);
        document.querySelector(`#task-${task.number} .task-edit`)?.focus();
      },
    }));
  };
  view();
  return card;
}

/** Inline editor for a draft's task: only changed fields are sent. */
function taskEditor(ctx, task, { onCancel, onSaved }) {
  const f = (label, input, help) => {
    const id = uid('edit');
    input.id = id;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, help ? h('p', { class: 'help' }, help) : null);
  };
  const name = h('input', { type: 'text', value: task.name, required: true });
  const description = h('textarea', { rows: 3 });
  description.value = task.description || '';
  const complexity = h('select', null, ['low', 'medium', 'high', 'critical'].map((c) => h('option', { value: c, selected: c === task.complexity }, c)));
  const files = h('textarea', { rows: Math.max(2, (task.files || []).length), spellcheck: 'false', class: 'code-input' });
  files.value = (task.files || []).join('\n');
  const deps = h('input', { type: 'text', value: (task.depends_on || []).join(', '), inputmode: 'numeric', pattern: '[0-9, ]*' });
  const note = h('input', { type: 'text', placeholder: `task ${task.number} edited` });

  const subtaskRows = h('div', { class: 'rows' });
  const addSubtask = (s = { name: '', description: '' }) => {
    const n = h('input', { type: 'text', value: s.name, 'aria-label': 'Subtask name', placeholder: 'name' });
    const d = h('input', { type: 'text', value: s.description, 'aria-label': 'Subtask description', placeholder: 'description' });
    const row = h('div', { class: 'row subtask-row' }, n, d,
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'aria-label': 'Remove subtask', onclick: () => row.remove() }, 'Remove'));
    row.read = () => ({ name: n.value.trim(), description: d.value.trim() });
    subtaskRows.append(row);
    return n;
  };
  (task.subtasks || []).forEach((s) => addSubtask(s));

  const criteriaRows = h('div', { class: 'rows' });
  const addCriterion = (c = { priority: 'must', criterion: '' }) => {
    const p = h('select', { 'aria-label': 'Priority' }, h('option', { value: 'must', selected: c.priority === 'must' }, 'MUST'), h('option', { value: 'should', selected: c.priority === 'should' }, 'SHOULD'));
    const t = h('input', { type: 'text', value: c.criterion, 'aria-label': 'Criterion', placeholder: 'what must be true' });
    const row = h('div', { class: 'row criterion-row' }, p, t,
      h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'aria-label': 'Remove criterion', onclick: () => row.remove() }, 'Remove'));
    row.read = () => ({ priority: p.value, criterion: t.value.trim() });
    criteriaRows.append(row);
    return t;
  };
  (task.acceptance || []).forEach((c) => addCriterion(c));

  const errors = h('div');
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save task');
  const form = h('form', { class: 'task-editor', 'aria-label': `Edit task ${task.number}` },
    h('h4', null, `Edit task #${task.number}`),
    f('Name', name),
    f('Description', description),
    f('Complexity', complexity),
    f('Files', files, 'One relative path per line, e.g. app/main.py.'),
    f('Depends on', deps, 'Task numbers, separated by commas.'),
    h('fieldset', null, h('legend', null, 'Subtasks'), subtaskRows,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => addSubtask().focus() }, 'Add subtask')),
    h('fieldset', null, h('legend', null, 'Acceptance criteria'), criteriaRows,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => addCriterion().focus() }, 'Add criterion')),
    f('Change note (optional)', note),
    errors,
    h('div', { class: 'form-buttons' }, h('button', { type: 'button', class: 'btn', onclick: onCancel }, 'Cancel'), save));
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onCancel();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errors);
    const body = {};
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (name.value.trim() !== task.name) body.name = name.value.trim();
    if (description.value !== (task.description || '')) body.description = description.value;
    if (complexity.value !== task.complexity) body.complexity = complexity.value;
    const fileList = files.value.split('\n').map((x) => x.trim()).filter(Boolean);
    if (!same(fileList, task.files || [])) body.files = fileList;
    const depText = deps.value.split(/[\s,]+/).filter(Boolean);
    if (depText.some((x) => !/^\d+$/.test(x))) {
      replace(errors, h('p', { class: 'error-box', role: 'alert' }, 'Depends on: write task numbers only, e.g. 2, 3.'));
      deps.focus();
      return;
    }
    const depList = depText.map(Number);
    if (!same(depList, task.depends_on || [])) body.depends_on = depList;
    const subs = [...subtaskRows.children].map((r) => r.read()).filter((s) => s.name || s.description).map((s, i) => ({ number: i + 1, ...s }));
    if (!same(subs.map((s) => [s.name, s.description]), (task.subtasks || []).map((s) => [s.name, s.description || '']))) body.subtasks = subs;
    const crit = [...criteriaRows.children].map((r) => r.read()).filter((c) => c.criterion);
    if (!same(crit, (task.acceptance || []).map((c) => ({ priority: c.priority, criterion: c.criterion })))) body.acceptance = crit;
    if (Object.keys(body).length === 0) {
      replace(errors, h('p', { class: 'notice notice-info', role: 'status' }, 'Nothing changed.'));
      return;
    }
    if (note.value.trim()) body.note = note.value.trim();
    save.disabled = true;
    try {
      const tree = await api.patch(`/masterplans/${ctx.state.id}/tasks/${task.number}`, body);
      await onSaved(tree);
    } catch (error) {
      replace(errors, errorBox(error));
      errors.querySelector('[role=alert]')?.scrollIntoView({ block: 'nearest' });
    } finally {
      save.disabled = false;
    }
  });
  queueMicrotask(() => name.focus());
  return form;
}

// Dependencies ---------------------------------------------------------------------------------------

function graphPanel(ctx) {
  const { plan, id } = ctx.state;
  const tasks = allTasks(plan);
  if (!tasks.length) return empty('No tasks yet.');
  const { layers, cycle } = layersOf(tasks);
  const names = new Map(tasks.map((t) => [t.number, t]));
  return h('div', { class: 'graph' },
    h('p', { class: 'muted' }, `An arrow goes from a task to the tasks that need it. ${plural(layers.length, 'layer')}: each task sits one layer after the latest task it depends on; the tasks of a layer can run together (the executor's waves refine this per file).`),
    cycle ? h('p', { class: 'error-box', role: 'alert' }, 'These dependencies contain a cycle.') : null,
    h('div', { class: 'dag-wrap', tabindex: '0', role: 'region', 'aria-label': 'Dependency graph (scrolls sideways)' },
      dagSvg(tasks, { href: (t) => taskLink(id, t.number) })),
    h('h2', null, 'Layers'),
    h('ol', { class: 'layers' }, layers.map((layer, i) => h('li', null,
      h('strong', null, `Layer ${i + 1}`), ': ',
      h('ul', { class: 'inline-list' }, layer.map((t) => h('li', null,
        h('a', { href: taskLink(id, t.number) }, `#${t.number} ${t.name}`),
        (t.depends_on || []).length ? h('span', { class: 'muted small' }, ` (after ${t.depends_on.map((n) => `#${n}`).join(', ')})`) : null)))))),
    h('h2', null, 'Dependencies as a table'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Task'), h('th', { scope: 'col' }, 'Depends on'), h('th', { scope: 'col' }, 'Layer'))),
      h('tbody', null, tasks.map((t) => h('tr', null,
        h('td', null, h('a', { href: taskLink(id, t.number) }, `#${t.number} ${t.name}`)),
        h('td', null, (t.depends_on || []).map((n) => names.get(n) ? `#${n} ${names.get(n).name}` : `#${n}`).join('; ') || '—'),
        h('td', null, String(layers.findIndex((l) => l.includes(t)) + 1))))))));
}

// Acceptance tests ------------------------------------------------------------------------------------

async function testsPanel(ctx) {
  const { state } = ctx;
  if (!state.tests) state.tests = (await api.get(`/masterplans/${state.id}/acceptance-tests`)).items || [];
  const tests = state.tests;
  if (!tests.length) return empty(state.plan.status === 'generating' ? 'The acceptance tests are generated with the plan.' : 'This plan has no acceptance tests.');
  const must = tests.filter((t) => t.priority === 'must').length;
  const frozen = tests.filter((t) => t.frozen_at);
  // A test that passed against an empty workspace, before any code existed, proves nothing: the plan
  // cannot be approved until it is regenerated or confirmed here with a reason.
  const unconfirmed = tests.filter((t) => t.cannot_fail && !t.cannot_fail_confirmation);
  const confirm = async (t) => {
    const done = await askDialog({
      title: `Keep ${t.name}?`,
      message: 'This test passed before any code existed, so it cannot fail and proves nothing about the code. Keep it only if that is what you want, and say why; otherwise regenerate the plan with feedback about it.',
      fields: [{ name: 'reason', label: 'Why keep it', type: 'textarea', required: true }],
      submitLabel: 'Keep the test',
      onSubmit: async (values) => {
        state.tests = (await api.post(`/masterplans/${state.id}/acceptance-tests/${t.id}/confirm`, { reason: values.reason })).items || [];
      },
    });
    if (done) await refresh(ctx);
  };
  return h('div', { class: 'tests' },
    h('p', null, `${plural(tests.length, 'test')}: ${must} MUST, ${tests.length - must} SHOULD. Gate S passes a wave when every due MUST test passes and at least 95 % of due SHOULD tests pass. `,
      frozen.length === tests.length ? h('span', null, 'All tests are frozen (their SHA-256 was recorded at approval).')
        : frozen.length ? `${frozen.length} frozen.` : h('span', null, 'Not frozen yet: approval freezes them.')),
    unconfirmed.length ? h('p', { class: 'status-reason', role: 'note' },
      `${plural(unconfirmed.length, 'test')} passed before any code existed and cannot fail: ${unconfirmed.map((t) => t.name).join(', ')}. `
      + 'The plan cannot be approved until each is regenerated or kept with a reason.') : null,
    tests.map((t) => h('details', { class: 'test card' },
      h('summary', null, priorityBadge(t.priority), ' ', h('strong', null, t.name), ' ', h('code', { class: 'muted' }, t.file_path), ' ',
        t.last_run ? badge(t.last_run.status === 'pass' ? 'passed' : t.last_run.status === 'fail' ? 'failed' : t.last_run.status, 'test-run') : h('span', { class: 'muted small' }, 'not run yet'),
        t.cannot_fail ? [' ', h('span', { class: ['badge', t.cannot_fail_confirmation ? 'status-edited' : 'status-blocked'] },
          t.cannot_fail_confirmation ? 'kept: cannot fail' : 'cannot fail')] : null),
      h('div', { class: 'test-body' },
        (t.criteria || []).length ? h('div', null, h('h5', null, 'Covers'),
          h('ul', { class: 'criteria' }, t.criteria.map((c) => h('li', null, priorityBadge(c.priority), ' ',
            h('a', { href: taskLink(state.id, c.task_number) }, `#${c.task_number}`), ' ', c.criterion)))) : null,
        facts([['Frozen', t.frozen_at ? dateTime(t.frozen_at) : 'not yet'], t.sha256 ? ['SHA-256', h('code', { title: t.sha256 }, shortSha(t.sha256))] : null,
          t.last_run ? ['Last run', `${t.last_run.status} in ${t.last_run.duration_ms} ms, ${dateTime(t.last_run.created_at)}`] : null,
          t.last_run && t.last_run.reason ? ['Why', t.last_run.reason] : null,
          t.last_mutation_run ? ['Without its code', t.last_mutation_run.status === 'pass'
            ? 'still passed: it proves nothing about the code it covers' : `failed, as it should (${dateTime(t.last_mutation_run.created_at)})`] : null,
          t.cannot_fail_confirmation ? ['Kept because', `${t.cannot_fail_confirmation.reason} (${dateTime(t.cannot_fail_confirmation.at)})`] : null]),
        t.cannot_fail && !t.cannot_fail_confirmation && state.plan.status === 'draft'
          ? h('p', null, h('button', { type: 'button', class: 'btn', onclick: () => confirm(t) }, 'Keep it, with a reason…')) : null,
        t.cannot_fail && t.cannot_fail_output ? codeBlock(t.cannot_fail_output, { label: `Run of ${t.name} before any code existed` }) : null,
        codeBlock(t.code, { label: `Code of ${t.name}` })))));
}

// Evidence ------------------------------------------------------------------------------------------

// What proves each task done: its accepted files with their validators, and every run of the tests that
// cover it (gate rounds and runs without its code), with the output of those that did not pass.
async function evidencePanel(ctx) {
  const { state } = ctx;
  const evidence = await api.get(`/masterplans/${state.id}/evidence`);
  const gate = evidence.final_gate;
  const runLine = (r) => h('li', { class: 'evidence-run' },
    badge(r.status === 'pass' ? 'passed' : r.status === 'fail' ? 'failed' : r.status), ' ',
    r.kind === 'mutation' ? (r.status === 'pass' ? 'without its code: still passed — proves nothing' : 'without its code: failed, as it should')
      : `wave ${r.wave}, round ${r.repair_round}`,
    ` · ${r.duration_ms} ms · `, timeEl(r.created_at),
    r.reason ? h('div', { class: 'muted small' }, r.reason) : null,
    (r.cases || []).length ? h('div', { class: 'small' }, 'Tests: ', r.cases.map((c, i) => [i ? ', ' : '', h('code', null, c.id.split('::').slice(1).join('::') || c.id), ` ${c.outcome}`])) : null,
    r.status !== 'pass' && r.kind === 'gate' && r.output_tail ? codeBlock(r.output_tail, { label: 'Output of this run' }) : null);
  const taskEl = (t) => h('article', { class: 'card evidence-task', id: `evidence-${t.number}`, tabindex: '-1' },
    h('h3', null, `#${t.number} ${t.name} `, badge(t.status)),
    h('h4', null, 'Files'),
    (t.files || []).length ? h('ul', null, t.files.map((f) => h('li', null,
      h('code', null, f.path), ' ', badge(f.status), ` · ${plural(f.attempts, 'attempt')} · wave ${f.wave ?? '—'}`,
      f.wave_commit ? [' · commit ', h('code', { title: f.wave_commit }, shortSha(f.wave_commit))] : null,
      f.accepted_attempt ? h('div', { class: 'small' }, `accepted attempt ${f.accepted_attempt.attempt} (${words(f.accepted_attempt.origin)}): `,
        (f.accepted_attempt.validation || []).map((v) => h('span', { class: ['badge', v.passed ? 'status-passed' : 'status-failed'], title: v.message || '' }, v.name))) : null)))
      : h('p', { class: 'muted' }, 'no files yet'),
    h('h4', null, 'Tests that cover it'),
    (t.tests || []).length ? t.tests.map((x) => h('details', { class: 'evidence-test' },
      h('summary', null, priorityBadge(x.priority), ' ', h('strong', null, x.name), ' ', h('code', { class: 'muted' }, x.file), ' ',
        x.cannot_fail ? h('span', { class: ['badge', x.cannot_fail_confirmation ? 'status-edited' : 'status-blocked'] }, 'cannot fail') : null,
        ` ${plural((x.runs || []).length, 'run')}`),
      (x.runs || []).length ? h('ul', null, x.runs.map(runLine)) : h('p', { class: 'muted' }, 'not run yet')))
      : h('p', { class: 'muted' }, 'no acceptance test covers this task'),
    (t.reviews || []).length ? [h('h4', null, 'Reviews'), h('ul', null, t.reviews.map((r) => h('li', null, h('code', null, r.file), ' ', badge(r.status), ' ', r.reason,
      r.waiver_reason ? h('div', { class: 'small' }, `waived: “${r.waiver_reason}”`) : null)))] : null);
  const panel = h('div', { class: 'evidence' },
    verificationNote(evidence) || h('p', { class: 'muted' }, evidence.status === 'completed' ? '' : `The plan is ${words(evidence.status)}; the evidence so far:`),
    gate ? h('p', null, `Final gate: ${gate.passed ? 'passed' : 'failed'} on commit `, h('code', { title: gate.commit || '' }, gate.commit ? shortSha(gate.commit) : '—'),
      `, MUST ${gate.must_passed}/${gate.must_total}, SHOULD ${gate.should_passed}/${gate.should_total} (wave ${gate.wave}, round ${gate.repair_round}).`) : null,
    (evidence.tasks || []).map(taskEl));
  if (ctx.query.task) setTimeout(() => panel.querySelector(`#evidence-${CSS.escape(ctx.query.task)}`)?.focus(), 0);
  return panel;
}

// Discovery -----------------------------------------------------------------------------------------

function listOf(items) {
  if (!Array.isArray(items) || !items.length) return h('p', { class: 'muted' }, '—');
  return h('ul', null, items.map((item) => {
    if (typeof item === 'string') return h('li', null, item);
    if (item && typeof item === 'object') {
      const title = item.name || item.title || item.risk || item.question || null;
      const rest = Object.entries(item).filter(([k]) => !['name', 'title', 'risk', 'question'].includes(k));
      return h('li', null, title ? h('strong', null, title) : null,
        rest.map(([k, v]) => h('span', null, title ? ' — ' : '', h('span', { class: 'muted' }, `${words(k)}: `), typeof v === 'string' ? v : JSON.stringify(v))));
    }
    return h('li', null, JSON.stringify(item));
  }));
}

async function discoveryPanel(ctx) {
  let d;
  try {
    d = await api.get(`/masterplans/${ctx.state.id}/discovery`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return empty('No discovery yet: it is written at the start of generation.');
    throw error;
  }
  const sections = [['Bounded contexts', d.bounded_contexts], ['Aggregates', d.aggregates], ['Value objects', d.value_objects],
    ['Domain events', d.domain_events], ['Services', d.services], ['Assumptions', d.assumptions], ['Clarifications', d.clarifications], ['Risks', d.risks]];
  const answers = Array.isArray(d.answers) ? d.answers : null;
  return h('div', { class: 'discovery' },
    answers ? h('section', { class: 'card answers' }, h('h2', null, 'Answers the plan is built on'),
      h('ol', null, answers.map((a) => h('li', null, h('strong', null, a.question), ' ',
        h('span', { class: ['badge', a.answered_by === 'person' ? 'answer-person' : 'answer-assumed'] }, a.answered_by === 'person' ? 'your answer' : 'assumed'),
        h('div', null, a.answer))))) : null,
    h('div', { class: 'card facts-card' }, facts([['Domain', d.domain], ['Model', d.model], ['Tokens', `${number(d.input_tokens)} in, ${number(d.output_tokens)} out`], ['Cost', money(d.cost_usd)]])),
    h('div', { class: 'discovery-grid' }, sections.map(([title, items]) => h('section', { class: 'card' }, h('h2', null, title), listOf(items)))));
}

// Versions and history ---------------------------------------------------------------------------------

async function historyPanel(ctx) {
  const { id } = ctx.state;
  const versions = (await api.get(`/masterplans/${id}/versions`, { query: { limit: 50 } })).items || [];
  const compareArea = h('div', { class: 'compare' });
  const versionRows = versions.map((v, i) => {
    const previous = versions[i + 1];
    return h('tr', null,
      h('td', null, `v${v.number}`),
      h('td', null, v.change_note || '—'),
      h('td', null, v.author),
      h('td', null, timeEl(v.created_at)),
      h('td', null, previous ? h('button', {
        type: 'button', class: 'btn btn-small',
        onclick: () => {
          // Task by task (added, removed, changed fields); the raw JSON diff stays one click away.
          const changes = planChanges(previous.snapshot, v.snapshot);
          replace(compareArea,
            h('h3', { tabindex: '-1' }, `Changes from v${previous.number} to v${v.number}: ${plural(changeCount(changes), 'change')}`),
            versionChangesView(changes, { h, beforeLabel: `v${previous.number}`, afterLabel: `v${v.number}` }),
            h('details', { class: 'raw-diff' }, h('summary', null, 'The snapshots as JSON, line by line'),
              diffView(JSON.stringify(previous.snapshot, null, 2), JSON.stringify(v.snapshot, null, 2), { oldLabel: `v${previous.number}`, newLabel: `v${v.number}` })));
          compareArea.querySelector('h3').focus();
        },
      }, `Compare with v${previous.number}`) : h('span', { class: 'muted' }, 'first version')));
  });

  const historyList = h('ol', { class: 'timeline' });
  const historyPager = pager(
    (cursor) => api.get(`/masterplans/${id}/history`, { query: { limit: 50, cursor } }),
    (items, first) => {
      if (first) replace(historyList);
      historyList.append(...items.map((e) => h('li', null,
        timeEl(e.created_at, false), ' ', h('span', { class: ['badge', `actor-${e.actor}`] }, e.actor), ' ',
        h('strong', null, words(e.event)),
        Object.keys(e.data || {}).length ? h('span', { class: 'muted small' }, ' ', Object.entries(e.data).map(([k, v]) => `${words(k)}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')) : null)));
    });
  await historyPager.reload();
  return h('div', { class: 'history' },
    h('h2', null, 'Versions'),
    versions.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('thead', null, h('tr', null, ['Version', 'Change', 'Author', 'When', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, versionRows))) : empty('No versions recorded yet.'),
    compareArea,
    h('h2', null, 'History'),
    historyList, historyPager.el);
}
