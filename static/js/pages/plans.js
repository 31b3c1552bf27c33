// #/plans — your plans, newest first (GET /masterplans, cursor pagination), filtered by status.

import { api } from '../api.js';
import { costMeter, empty, pageHeader, pager, verificationBadge } from '../components.js';
import { badge, h, number, replace, timeEl, uid } from '../dom.js';
import { LiveStream } from '../events.js';
import { link } from '../router.js';

const STATUSES = ['generating', 'awaiting_answers', 'draft', 'approved', 'rejected', 'generation_failed', 'queued', 'executing',
  'completed', 'failed', 'blocked', 'paused', 'cancelled'];

function planRow(plan) {
  const name = plan.project_name || plan.request;
  const progress = plan.total_atoms ? `${number(plan.completed_atoms)}/${number(plan.total_atoms)} atoms`
    : plan.total_tasks ? `${number(plan.total_tasks)} tasks` : '—';
  return h('tr', { 'data-plan-id': plan.id },
    h('td', { class: 'plan-name' },
      // The short id tells apart plans of the same project name (a regeneration is the same plan).
      h('a', { href: `#/plans/${plan.id}` }, name), h('span', { class: 'muted small plan-short-id', title: plan.id }, ` #${plan.id.slice(0, 8)}`),
      plan.project_name ? h('div', { class: 'muted small clamp' }, plan.request) : null),
    h('td', { 'data-label': 'Status' }, badge(plan.status), plan.verification ? [' ', verificationBadge(plan)] : null, plan.status_reason ? h('div', { class: 'muted small' }, plan.status_reason) : null),
    h('td', { 'data-label': 'Progress' }, progress),
    h('td', { class: 'cost-cell', 'data-label': 'Cost' }, costMeter(plan.actual_cost_usd, plan.budget_usd, plan.estimated_cost_usd, { estimated: plan.actual_cost_estimated })),
    h('td', { 'data-label': 'Created' }, timeEl(plan.created_at)));
}

export default async function render(ctx) {
  ctx.setTitle('Plans');
  const filterId = uid('filter');
  const select = h('select', { id: filterId },
    h('option', { value: '' }, 'All statuses'),
    STATUSES.map((s) => h('option', { value: s, selected: ctx.query.status === s }, s.replaceAll('_', ' '))));
  select.addEventListener('change', () => {
    location.hash = link('/plans', { status: select.value });
  });
  const tbody = h('tbody');
  const table = h('div', { class: 'table-wrap' },
    h('table', { class: 'table plans-table' },
      h('caption', { class: 'sr-only' }, 'Your plans, newest first'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Plan'), h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Progress'), h('th', { scope: 'col' }, 'Cost so far'), h('th', { scope: 'col' }, 'Created'))),
      tbody));
  const emptyNote = h('div');
  const list = pager(
    (cursor) => api.get('/masterplans', { query: { status: ctx.query.status, limit: 25, cursor } }),
    (items, first) => {
      if (first) replace(tbody);
      tbody.append(...items.map(planRow));
      replace(emptyNote, tbody.children.length ? null : empty(ctx.query.status
        ? `No plans are ${ctx.query.status.replaceAll('_', ' ')}.`
        : 'No plans yet. Start one from a request.'));
      table.hidden = tbody.children.length === 0;
    });

  replace(ctx.main,
    pageHeader('Plans', {
      subtitle: 'Every plan you asked for, newest first.',
      actions: h('a', { href: '#/chat', class: 'btn btn-primary' }, 'New request'),
    }),
    h('div', { class: 'toolbar' }, h('label', { for: filterId }, 'Status'), select),
    table, emptyNote, list.el);
  await list.reload();

  // Status changes of any plan refresh the list (debounced by the stream's own pace).
  let timer = null;
  const stream = new LiveStream('/events', {
    onEvent: (event) => {
      if (['plan_status_changed', 'masterplan_generation_complete', 'masterplan_execution_complete', 'wave_execution_complete'].includes(event.type)) {
        clearTimeout(timer);
        timer = setTimeout(() => list.reload(), 500);
      }
    },
  }).start();
  ctx.onCleanup(() => {
    clearTimeout(timer);
    stream.close();
  });
}
