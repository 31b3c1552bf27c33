// #/reviews?status=pending&plan={id} — the review queue, oldest first (GET /reviews).

import { api } from '../api.js';
import { empty, pageHeader, pager } from '../components.js';
import { badge, confidenceEl, h, replace, timeEl, uid } from '../dom.js';
import { LiveStream } from '../events.js';
import { link } from '../router.js';

const STATUSES = ['pending', 'approved', 'edited', 'regenerated', 'rejected', 'waived'];

/** Plan names for the queue (the review JSON carries only plan_id). */
export async function planNames() {
  const names = new Map();
  try {
    const page = await api.get('/masterplans', { query: { limit: 200 } });
    for (const p of page.items || []) names.set(p.id, p.project_name || p.request);
  } catch {
    // Names are a convenience; ids are shown instead.
  }
  return names;
}

export default async function render(ctx) {
  ctx.setTitle('Reviews');
  const status = ctx.query.status ?? 'pending';
  const planId = ctx.query.plan || null;
  const names = await planNames();
  const filterId = uid('filter');
  const select = h('select', { id: filterId },
    h('option', { value: 'all', selected: status === 'all' }, 'All'),
    STATUSES.map((s) => h('option', { value: s, selected: status === s }, s)));
  select.addEventListener('change', () => {
    location.hash = link('/reviews', { status: select.value, plan: planId });
  });
  const tbody = h('tbody');
  const tableWrap = h('div', { class: 'table-wrap' }, h('table', { class: 'table reviews-table' },
    h('caption', { class: 'sr-only' }, 'Reviews, oldest first'),
    h('thead', null, h('tr', null, ['Review', 'Priority', 'Confidence', 'Plan', 'Status', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
    tbody));
  const emptyNote = h('div');
  const row = (r) => h('tr', { 'data-review-id': r.id },
    h('td', null,
      h('a', { href: `#/reviews/${r.id}` }, r.file_path ? r.file_path : `Task #${r.task_number ?? '?'} (gate)`),
      h('div', { class: 'muted small clamp' }, r.reason)),
    h('td', { 'data-label': 'Priority' }, h('span', { class: ['badge', `prio-${r.priority}`] }, r.priority)),
    h('td', { 'data-label': 'Confidence' }, confidenceEl(r.confidence)),
    h('td', { 'data-label': 'Plan' }, h('a', { href: `#/plans/${r.plan_id}` }, names.get(r.plan_id) || r.plan_id.slice(0, 8)),
      h('div', { class: 'muted small' }, [r.task_number ? `task #${r.task_number}` : null, r.wave ? `wave ${r.wave}` : null].filter(Boolean).join(' · '))),
    h('td', { 'data-label': 'Status' }, badge(r.status)),
    h('td', { 'data-label': 'Created' }, timeEl(r.created_at)));
  const list = pager(
    (cursor) => api.get('/reviews', { query: { status: status === 'all' ? null : status, plan_id: planId, limit: 50, cursor } }),
    (items, first) => {
      if (first) replace(tbody);
      tbody.append(...items.map(row));
      tableWrap.hidden = tbody.children.length === 0;
      replace(emptyNote, tbody.children.length ? null
        : empty(status === 'pending' ? 'Nothing to review. Reviews appear when the executor is unsure about an atom (confidence below 0.70) or a gate stays red.' : 'No reviews match.'));
    });

  replace(ctx.main,
    pageHeader('Review queue', {
      subtitle: 'Atoms the executor is unsure about, oldest first. Approve, edit, regenerate or reject each one.',
    }),
    h('div', { class: 'toolbar' },
      h('label', { for: filterId }, 'Status'), select,
      planId ? h('span', null, 'Plan: ', h('a', { href: `#/plans/${planId}` }, names.get(planId) || planId.slice(0, 8)), ' ',
        h('a', { href: link('/reviews', { status }), class: 'btn btn-small' }, 'Show all plans')) : null),
    tableWrap, emptyNote, list.el);
  await list.reload();

  let timer = null;
  const stream = new LiveStream('/events', {
    onEvent: (event) => {
      if (event.type === 'review_created' || event.type === 'review_resolved') {
        clearTimeout(timer);
        timer = setTimeout(() => list.reload(), 400);
      }
    },
  }).start();
  ctx.onCleanup(() => {
    clearTimeout(timer);
    stream.close();
  });
}
