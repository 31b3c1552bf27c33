// #/usage?period=7d — what your LLM calls used and cost (GET /usage): tokens (input, cached, output),
// the share of input read from the prompt cache, cost and calls, in total and per plan, purpose and
// model. A figure that includes estimated usage is marked "≈"; a figure nobody reported is "unknown",
// never 0.

import { api } from '../api.js';
import { approximately, ESTIMATED_NOTE, empty, pageHeader, unknownFigure } from '../components.js';
import { h, money, number, plural, replace, uid, words } from '../dom.js';
import { link } from '../router.js';

const PERIODS = [
  { value: 'all', label: 'All time', seconds: null },
  { value: '24h', label: 'Last 24 hours', seconds: 86400 },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86400 },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86400 },
];

/** The purposes of llm_calls (Migrations/0003_jobs_and_llm_calls.sql), in words. */
const PURPOSES = {
  discovery: 'Discovery', masterplan: 'Plan generation', plan_repair: 'Plan repair', acceptance_tests: 'Acceptance tests',
  atom: 'Atoms', gate_repair: 'Gate repairs', review_suggestions: 'Review suggestions', chat: 'Chat', estimate: 'Estimates',
};

/** A token count or cost of a row: "unknown" when nothing was reported, "≈" when it includes estimates. */
function figure(value, row, format = number) {
  if (value === null || value === undefined) return unknownFigure();
  return row.usage_estimated ? approximately(format(value)) : format(value);
}

/** The cached share as "42 %", or "—" when no call of the row reported its cache use. */
function share(row) {
  if (row.cached_input_share === null || row.cached_input_share === undefined) {
    return h('span', { class: 'muted', title: 'No call here reported both its input and its cached input tokens.' }, '—');
  }
  return `${(100 * row.cached_input_share).toFixed(row.cached_input_share < 0.1 && row.cached_input_share > 0 ? 1 : 0)} %`;
}

/** Calls, with how many were estimated and how many have unknown usage or cost. */
function calls(row) {
  const notes = [
    row.estimated_calls ? `${number(row.estimated_calls)} estimated` : null,
    row.calls_without_usage ? `${number(row.calls_without_usage)} without usage` : null,
    row.calls_without_cost ? `${number(row.calls_without_cost)} without cost` : null,
  ].filter(Boolean);
  return [number(row.calls), notes.length ? h('div', { class: 'muted small' }, notes.join(' · ')) : null];
}

function cells(row) {
  return [
    h('td', { 'data-label': 'Calls' }, calls(row)),
    h('td', { 'data-label': 'Input tokens', class: 'num' }, figure(row.input_tokens, row)),
    h('td', { 'data-label': 'Cached input', class: 'num' }, figure(row.cached_input_tokens, row),
      h('div', { class: 'muted small' }, share(row))),
    h('td', { 'data-label': 'Output tokens', class: 'num' }, figure(row.output_tokens, row)),
    h('td', { 'data-label': 'Cost', class: 'num' }, figure(row.cost_usd, row, money)),
  ];
}

function table(caption, firstColumn, rows, name) {
  if (!rows.length) return null;
  return h('section', { class: 'usage-section' },
    h('h2', null, caption),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table usage-table', 'data-group': caption.toLowerCase().replace(/\s+/g, '-') },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null, [firstColumn, 'Calls', 'Input tokens', 'Cached input', 'Output tokens', 'Cost']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows.map((row) => h('tr', null, h('th', { scope: 'row' }, name(row)), cells(row)))))));
}

function stat(title, value, note) {
  return h('div', { class: 'card stat' }, h('h2', null, title), h('p', { class: 'stat-value' }, value), note ? h('p', { class: 'muted small' }, note) : null);
}

export default async function render(ctx) {
  ctx.setTitle('Usage');
  const period = PERIODS.find((p) => p.value === ctx.query.period) || PERIODS[0];
  const since = period.seconds ? new Date(Date.now() - period.seconds * 1000).toISOString() : null;
  const [usage, me] = await Promise.all([
    api.get('/usage', { query: { since } }),
    api.get('/me').catch(() => null),
  ]);
  if (ctx.disposed) return;

  const filterId = uid('period');
  const select = h('select', { id: filterId }, PERIODS.map((p) => h('option', { value: p.value, selected: p === period }, p.label)));
  select.addEventListener('change', () => {
    location.hash = link('/usage', { period: select.value === 'all' ? null : select.value });
  });

  const demo = me?.demo_model === true
    ? h('p', { class: 'status-reason demo-note', role: 'note' }, h('strong', null, 'Demo mode: '),
      `a scripted model${me.model ? ` (${me.model})` : ''} answers, and it is free: its calls cost nothing, whatever their token counts.`)
    : null;

  const anyEstimated = usage.usage_estimated || [...usage.by_plan, ...usage.by_purpose, ...usage.by_model].some((r) => r.usage_estimated);
  const anyUnknown = usage.calls_without_usage > 0 || usage.calls_without_cost > 0;
  const legend = anyEstimated || anyUnknown
    ? h('div', { class: 'usage-legend', role: 'note' },
      anyEstimated ? h('p', null, approximately('figure'), ': ', ESTIMATED_NOTE) : null,
      anyUnknown ? h('p', null, unknownFigure(), ' / “without usage”, “without cost”: the provider reported no token counts, or the model has no price; those calls are in no sum — they are not free.') : null)
    : null;

  const totals = usage.calls === 0
    ? empty(period.seconds ? 'No LLM calls in this period.' : 'No LLM calls yet. Usage appears here once a plan is generated or a chat is answered.')
    : h('div', { class: 'summary-grid usage-totals' },
      stat('Calls', number(usage.calls), [
        usage.estimated_calls ? `${plural(usage.estimated_calls, 'call')} estimated` : null,
        usage.calls_without_usage ? `${plural(usage.calls_without_usage, 'call')} without usage` : null,
      ].filter(Boolean).join(' · ') || null),
      stat('Input tokens', figure(usage.input_tokens, usage), h('span', null, 'of which cached: ', figure(usage.cached_input_tokens, usage))),
      stat('Read from cache', share(usage), 'share of input tokens, over the calls that reported it'),
      stat('Output tokens', figure(usage.output_tokens, usage)),
      stat('Cost', figure(usage.cost_usd, usage, money),
        usage.calls_without_cost ? `${plural(usage.calls_without_cost, 'call')} without a known cost (not in it)` : null));

  replace(ctx.main,
    pageHeader('Usage', { subtitle: 'What your LLM calls used and cost, from the call ledger: tokens, the prompt cache, dollars.' }),
    h('div', { class: 'toolbar' }, h('label', { for: filterId }, 'Period'), select),
    demo, totals, legend,
    table('By plan', 'Plan', usage.by_plan, (r) => h('a', { href: `#/plans/${r.plan_id}` }, r.project_name || r.plan_id.slice(0, 8))),
    table('By purpose', 'Purpose', usage.by_purpose, (r) => PURPOSES[r.purpose] || words(r.purpose)),
    table('By model', 'Model', usage.by_model, (r) => [r.model, h('div', { class: 'muted small' }, r.provider)]));
}
