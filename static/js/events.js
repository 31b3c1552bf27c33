// Live progress over server-sent events, resuming from the last event seen.
//
// EventSource cannot send headers, and an access token in a URL ends up in logs, so every
// connection opens with a single-use stream ticket (POST /api/v1/events/tickets, valid 60 s) as
// ?ticket=. The browser's own reconnection would reuse the spent ticket, so on any error or end of
// the stream we close the EventSource and connect again ourselves with a fresh ticket and
// ?last_event_id=. The first ticket says which event was the latest then, so even a stream that has
// seen no event yet resumes from a known id. Ids are monotonic; an event at or below the last id
// seen is dropped, so a replay never shows anything twice. A 401 for the ticket (the session ended:
// token expired, password changed, account disabled) sends the user to the login page (api.js).

import { API_BASE, api } from './api.js';
import { plural } from './dom.js';

export const EVENT_TYPES = [
  'discovery_generation_start', 'discovery_tokens_progress', 'discovery_generation_complete',
  'masterplan_generation_start', 'masterplan_tokens_progress', 'masterplan_generation_complete',
  'masterplan_generation_failed', 'plan_status_changed', 'masterplan_execution_start', 'wave_execution_start',
  'atom_execution_progress', 'atom_execution_complete', 'wave_execution_complete', 'acceptance_test_result',
  'gate_validation_result', 'review_created', 'review_resolved', 'cost_warning', 'masterplan_execution_complete',
  'chat_message', 'chat_reply_progress',
];

export class LiveStream {
  /**
   * @param {string} path  "/events" or "/masterplans/{id}/events"
   * @param {{onEvent: Function, onStatus?: Function, onOpen?: Function, lastEventId?: number|null}} options
   *   onStatus receives "connecting" | "live" | "reconnecting" | "closed"; onOpen runs on every
   *   (re)connection, so a page can reload what it shows. lastEventId null starts with what
   *   happens from now on; 0 replays everything.
   */
  constructor(path, { onEvent, onStatus = () => {}, onOpen = () => {}, lastEventId = null }) {
    this.path = path;
    this.planId = /^\/masterplans\/([^/]+)\/events$/.exec(path)?.[1] ?? null;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onOpen = onOpen;
    this.lastId = lastEventId;
    this.source = null;
    this.closed = false;
    this.failures = 0;
    this.timer = null;
    this.status = 'connecting';
  }

  start() {
    this.open();
    return this;
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus(status);
  }

  /** The URL for a new EventSource: the ticket, and where to resume from. */
  url(ticket) {
    const params = new URLSearchParams();
    params.set('ticket', ticket);
    if (this.lastId !== null && this.lastId !== undefined) params.set('last_event_id', String(this.lastId));
    return `${API_BASE}${this.path}?${params}`;
  }

  async open() {
    if (this.closed) return;
    this.setStatus(this.failures ? 'reconnecting' : 'connecting');
    let ticket;
    try {
      ticket = await api.post('/events/tickets', this.planId ? { plan_id: this.planId } : {});
    } catch (error) {
      // 401: api.js ended the session and shows the login page; 404: the plan is gone.
      if (error?.status === 401 || error?.status === 404) {
        this.close();
        return;
      }
      this.retryLater();
      return;
    }
    if (this.closed) return;
    if (this.lastId === null || this.lastId === undefined) this.lastId = ticket.last_event_id ?? null;
    const source = new EventSource(this.url(ticket.ticket));
    this.source = source;
    const handler = (message) => this.receive(message);
    for (const type of EVENT_TYPES) source.addEventListener(type, handler);
    source.onmessage = handler;
    source.onopen = () => {
      this.failures = 0;
      this.setStatus('live');
      this.onOpen();
    };
    source.onerror = () => {
      // A dropped or ended stream, or an HTTP error: never let the browser reconnect with the spent
      // ticket; connect again with a new one from the last event seen.
      source.close();
      if (this.closed || this.source !== source) return;
      this.source = null;
      this.retryLater();
    };
  }

  /** Connects again after a pause that grows with consecutive failures (1 s, 2 s, … 30 s). */
  retryLater() {
    if (this.closed) return;
    this.failures += 1;
    this.setStatus('reconnecting');
    const delay = Math.min(30000, 1000 * 2 ** Math.min(this.failures - 1, 5));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  receive(message) {
    const id = message.lastEventId ? Number(message.lastEventId) : null;
    if (id !== null && this.lastId !== null && this.lastId !== undefined && id <= this.lastId) return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (id !== null) this.lastId = id;
    if (!event.type) event.type = message.type;
    try {
      this.onEvent(event);
    } catch (error) {
      console.error('event handler failed', error);
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
    this.source = null;
    this.setStatus('closed');
  }
}

const TOKEN_WORDS = (data) => {
  const parts = [];
  for (const [key, value] of Object.entries(data || {})) {
    if (typeof value === 'number' && /token/.test(key)) parts.push(`${value.toLocaleString('en-US')} ${key.replace(/_?tokens?$/, '').replaceAll('_', ' ') || 'total'} tokens`.replace('  ', ' '));
  }
  return parts.join(', ');
};

/** What each step of plan generation is doing, for its progress events. */
const STAGE_WORDS = {
  plan: 'Writing the plan', plan_repair: 'Repairing the plan', acceptance_tests: 'Writing the acceptance tests', discovery: 'Writing the discovery',
};

/** What a generation step is writing, as a heading for its live text. */
export function stageTitle(event) {
  const words = event.type === 'discovery_tokens_progress' ? STAGE_WORDS.discovery : STAGE_WORDS[event.data?.stage] || STAGE_WORDS.plan;
  return event.data?.done ? `${words}: done` : `${words}…`;
}

/**
 * The answer a generation step is writing, from its latest progress event: a live block that grows
 * (its end, when the answer is longer than an event carries), or null when no event carried text.
 */
export function liveAnswer(events, h) {
  const last = [...events].reverse().find((e) => e.type.endsWith('_tokens_progress') && typeof e.data?.text === 'string');
  if (!last) return null;
  const d = last.data;
  return h('section', { class: 'live-answer', 'aria-label': stageTitle(last) },
    h('h3', null, stageTitle(last)),
    d.text_offset ? h('p', { class: 'muted small' }, `The last ${d.text.length.toLocaleString('en-US')} of ${Number(d.characters).toLocaleString('en-US')} characters:`) : null,
    h('pre', { class: 'live-text' }, d.text));
}

/** One line, in plain words, for an event (unknown fields are ignored). */
export function describeEvent(event) {
  const d = event.data || {};
  const file = (d.file_path ?? d.file) ? ` ${d.file_path ?? d.file}` : '';
  const atoms = d.atoms ?? d.atom_count ?? d.total_atoms;
  const commit = d.commit_sha ?? d.commit;
  const spent = d.actual_cost_usd ?? d.spent_usd;
  const wave = d.wave ?? d.wave_number;
  switch (event.type) {
    case 'discovery_generation_start': return 'Discovery started: analysing the request.';
    case 'discovery_tokens_progress': return `Discovery in progress: ${TOKEN_WORDS(d) || (d.characters ? `${d.characters.toLocaleString('en-US')} characters so far` : 'tokens arriving')}.`;
    case 'discovery_generation_complete': return `Discovery done${d.domain ? `: ${d.domain}` : ''}.`;
    case 'masterplan_generation_start': return `Plan generation started${d.attempt > 1 ? ` (attempt ${d.attempt})` : ''}.`;
    case 'masterplan_tokens_progress': return `${STAGE_WORDS[d.stage] || 'Writing the plan'}${d.stage === 'plan_repair' && d.problems ? ` (${plural(d.problems, 'problem')} to fix)` : ''}: ${TOKEN_WORDS(d) || (d.characters ? `${d.characters.toLocaleString('en-US')} characters so far` : 'tokens arriving')}.`;
    case 'masterplan_generation_complete': return `Plan ready${d.tasks ? ` with ${plural(d.tasks, 'task')}` : ''}.`;
    case 'masterplan_generation_failed': return `Plan generation failed${d.error || d.reason ? `: ${d.error || d.reason}` : ''}.`;
    case 'plan_status_changed': if (d.action === 'edit') return `A task was edited${d.version ? `: version ${d.version}` : ''}.`;
      return `Status ${d.from ? `${String(d.from).replaceAll('_', ' ')} → ` : ''}${String(d.to ?? '').replaceAll('_', ' ')}${d.reason ? ` (${d.reason})` : ''}.`;
    case 'masterplan_execution_start': return `Execution started${(d.waves ?? d.total_waves) ? `: ${d.waves ?? d.total_waves} waves` : ''}${atoms ? `, ${atoms} atoms` : ''}.`;
    case 'wave_execution_start': return `Wave ${wave ?? '?'} started${atoms ? ` (${atoms} ${atoms === 1 ? 'atom' : 'atoms'})` : ''}.`;
    case 'atom_execution_progress': return `Atom${file}: ${d.passed === true ? 'validated' : d.passed === false ? 'failed validation' : String(d.status || d.phase || 'working').replaceAll('_', ' ')}${d.attempt ? `, attempt ${d.attempt}` : ''}.`;
    case 'atom_execution_complete': return `Atom${file} ${String(d.status || 'finished').replaceAll('_', ' ')}${typeof d.confidence === 'number' ? `, confidence ${d.confidence.toFixed(2)}` : ''}.`;
    case 'wave_execution_complete': return `Wave ${wave ?? '?'} ${d.status ? String(d.status) : 'finished'}${commit ? `, commit ${String(commit).slice(0, 10)}` : ''}.`;
    case 'acceptance_test_result': return `Test ${d.name || d.test_name || ''} ${d.status || ''}${d.priority ? ` (${String(d.priority).toUpperCase()})` : ''}.`;
    case 'gate_validation_result': return `Gate S for wave ${wave ?? '?'}${d.repair_round ? ` (repair round ${d.repair_round})` : ''}: ${d.passed ? 'passed' : 'failed'}${d.must_total !== undefined ? ` — MUST ${d.must_passed}/${d.must_total}, SHOULD ${d.should_passed}/${d.should_total}` : ''}.`;
    case 'review_created': return `Review needed${file ? ` for${file}` : ''}${typeof d.confidence === 'number' ? ` (confidence ${d.confidence.toFixed(2)})` : ''}.`;
    case 'review_resolved': return `Review ${d.status || 'resolved'}.`;
    case 'cost_warning': return `Cost warning: ${spent !== undefined ? `$${Number(spent).toFixed(2)} of $${Number(d.budget_usd).toFixed(2)}` : 'over 80 % of the budget'} spent.`;
    case 'masterplan_execution_complete': return d.verification === 'accepted_with_waivers'
      ? `Execution ended: completed, accepted with ${(d.waivers || []).length} waived test(s) — not verified.`
      : `Execution ended: ${String(d.status || 'done').replaceAll('_', ' ')}${d.verification === 'verified' ? ', verified: every acceptance test passed on the archived commit' : ''}.`;
    case 'chat_message': return `Message from ${d.message?.role || 'someone'}.`;
    case 'chat_reply_progress': return `MasterPlan is writing a reply${typeof d.characters === 'number' ? ` (${plural(d.characters, 'character')} so far)` : ''}.`;
    default: return String(event.type || 'event').replaceAll('_', ' ');
  }
}
