// #/chat and #/chat/{id} — type a request (or `/masterplan …`) and watch discovery and plan
// generation live. Conversations: POST/GET /conversations, GET /conversations/{id}; messages:
// POST /conversations/{id}/messages. Progress comes over the user's event stream (/events); a chat
// reply grows in its bubble while the model writes it (chat_reply_progress, the whole reply so far)
// and becomes the stored message when chat_message arrives.

import { api } from '../api.js';
import { errorBox, liveIndicator, loading, notify, pageHeader, pager, questionsForm } from '../components.js';
import { badge, debounce, h, plural, replace, timeEl, uid, words } from '../dom.js';
import { describeEvent, liveAnswer, LiveStream } from '../events.js';

const PLAN_COMMAND = '/masterplan';
const MAKE_PLAN_KEY = 'masterplan.makePlan';
const EXAMPLE = 'create a FastAPI app with JWT auth';

export default async function render(ctx) {
  const conversationId = ctx.params.id || null;
  ctx.setTitle('New request');
  const live = liveIndicator();
  // replies: user message id → the bubble of its reply being written; answered: user message ids
  // whose reply is stored, so a late progress event never reopens a bubble.
  const state = { conversationId, messages: new Map(), plans: new Map(), replies: new Map(), answered: new Set(), live };
  ctx.state = state;

  const convList = h('ul', { class: 'conversation-list' });
  const convPager = pager(
    (cursor) => api.get('/conversations', { query: { limit: 30, cursor } }),
    (items, first) => {
      if (first) replace(convList);
      convList.append(...items.map((c) => h('li', null,
        h('a', { href: `#/chat/${c.id}`, 'aria-current': c.id === conversationId ? 'page' : null },
          h('span', { class: 'conv-title' }, c.title || 'Untitled conversation'),
          h('span', { class: 'muted small' }, `${plural(c.message_count, 'message')} · `, timeEl(c.updated_at))))));
      if (!convList.children.length) convList.append(h('li', { class: 'muted' }, 'No conversations yet.'));
    });
  const newButton = h('button', { type: 'button', class: 'btn btn-small' }, 'New conversation');
  newButton.addEventListener('click', () => {
    location.hash = '#/chat';
  });

  state.messagesEl = h('ol', { class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite' });
  const composer = composerForm(ctx);
  const title = h('span');
  replace(ctx.main,
    pageHeader('Request', { subtitle: 'Describe what you want built. MasterPlan analyses the request, writes a plan with acceptance tests, and waits for your review.', meta: [live.el] }),
    h('div', { class: 'chat-layout' },
      h('aside', { class: 'chat-side card', 'aria-label': 'Conversations' },
        h('div', { class: 'side-head' }, h('h2', null, 'Conversations'), newButton), convList, convPager.el),
      h('section', { class: 'chat-main', 'aria-labelledby': 'chat-title' },
        h('h2', { id: 'chat-title', class: 'chat-title' }, title),
        state.messagesEl, composer)));
  convPager.reload();

  if (conversationId) {
    replace(state.messagesEl, loading());
    try {
      const conversation = await api.get(`/conversations/${conversationId}`);
      if (ctx.disposed) return;
      title.textContent = conversation.title || 'Untitled conversation';
      ctx.setTitle(conversation.title || 'Conversation');
      replace(state.messagesEl);
      for (const m of conversation.messages || []) addMessage(ctx, m);
      if (!conversation.messages?.length) state.messagesEl.append(h('li', { class: 'muted' }, 'No messages yet.'));
      state.messagesEl.lastElementChild?.scrollIntoView({ block: 'nearest' });
    } catch (error) {
      replace(state.messagesEl, h('li', null, errorBox(error)));
    }
  } else {
    title.textContent = 'New conversation';
    replace(state.messagesEl, h('li', { class: 'intro' },
      h('p', null, 'Try: ', h('q', null, EXAMPLE), '.'),
      h('p', { class: 'small supported-stacks' }, 'Plans run as Python (pytest), Node.js (node --test, standard library) or Go (go test, standard library) projects.'),
      h('p', { class: 'muted small' }, `With "Make a plan" ticked, your text is sent as ${PLAN_COMMAND} <request>. Without it, the assistant answers in the chat; a message starting with ${PLAN_COMMAND} always starts a plan.`)));
  }

  const stream = new LiveStream('/events', {
    onStatus: live.set,
    onOpen: () => {
      for (const card of state.plans.values()) card.refresh();
    },
    onEvent: (event) => {
      if (event.type === 'chat_message' && event.data?.conversation_id === state.conversationId && event.data.message) {
        const message = { ...event.data.message, plan_id: event.data.message.plan_id ?? event.plan_id ?? null };
        if (event.data.in_reply_to) finishReply(ctx, event.data.in_reply_to, message);
        else addMessage(ctx, message);
      }
      if (event.type === 'chat_reply_progress' && event.data?.conversation_id === state.conversationId) {
        showReplyProgress(ctx, event.data);
      }
      const card = event.plan_id ? state.plans.get(event.plan_id) : null;
      if (card) card.event(event);
    },
  }).start();
  ctx.onCleanup(() => stream.close());
}

function composerForm(ctx) {
  const id = uid('request');
  const budgetId = uid('budget');
  const text = h('textarea', { id, rows: 4, required: true, placeholder: EXAMPLE, 'aria-describedby': `${id}-help` });
  // The box keeps the person's last choice (this browser; nothing secret in it).
  const makePlan = h('input', { type: 'checkbox', id: `${id}-plan`, checked: localStorage.getItem(MAKE_PLAN_KEY) !== 'no' });
  makePlan.addEventListener('change', () => localStorage.setItem(MAKE_PLAN_KEY, makePlan.checked ? 'yes' : 'no'));
  const budget = h('input', { id: budgetId, type: 'number', min: '0.01', step: '0.01', inputmode: 'decimal', placeholder: 'server default' });
  const errors = h('div');
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send');
  const form = h('form', { class: 'composer card', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: id }, 'Your request'), text,
      h('p', { class: 'help', id: `${id}-help` }, 'Ctrl+Enter sends.')),
    h('div', { class: 'composer-options' },
      h('label', { class: 'check' }, makePlan, ' Make a plan from this request'),
      h('span', { class: 'field-inline' }, h('label', { for: budgetId }, 'Budget (USD)'), budget)),
    errors,
    h('div', { class: 'form-buttons' }, send));
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errors);
    let content = text.value.trim();
    if (!content) {
      replace(errors, h('p', { class: 'error-box', role: 'alert' }, 'Type a request first.'));
      text.focus();
      return;
    }
    const isCommand = content === PLAN_COMMAND || content.startsWith(`${PLAN_COMMAND} `) || content.startsWith(`${PLAN_COMMAND}\n`);
    if (makePlan.checked && !isCommand) content = `${PLAN_COMMAND} ${content}`;
    const body = { content };
    if (budget.value) body.budget_usd = Number(budget.value);
    send.disabled = true;
    try {
      let conversationId = ctx.state.conversationId;
      if (!conversationId) {
        const request = content.replace(PLAN_COMMAND, '').trim();
        const conversation = await api.post('/conversations', { title: request.slice(0, 80) });
        conversationId = conversation.id;
      }
      const answer = await api.post(`/conversations/${conversationId}/messages`, body);
      text.value = '';
      if (answer.kind === 'plan') notify('Plan requested: progress appears below as the executor works.', 'success');
      if (conversationId !== ctx.state.conversationId) {
        location.hash = `#/chat/${conversationId}`;
        return;
      }
      addMessage(ctx, { ...answer.message, plan_id: answer.plan_id });
    } catch (error) {
      replace(errors, errorBox(error));
    } finally {
      send.disabled = false;
    }
  });
  return form;
}

function addMessage(ctx, message) {
  const { state } = ctx;
  if (state.messages.has(message.id)) {
    if (message.plan_id && !state.plans.has(message.plan_id)) state.messages.get(message.id).append(planCard(ctx, message.plan_id, message.content));
    return;
  }
  if (state.messagesEl.querySelector(':scope > .intro, :scope > li.muted')) replace(state.messagesEl);
  const el = h('li', { class: ['message', `message-${message.role}`] },
    h('div', { class: 'message-head' }, h('strong', null, message.role === 'user' ? 'You' : message.role === 'assistant' ? 'MasterPlan' : 'System'), ' ', timeEl(message.created_at)),
    h('div', { class: 'message-body' }, message.content),
    message.plan_id ? planCardOrLink(ctx, message.plan_id, message.content) : null);
  state.messages.set(message.id, el);
  state.messagesEl.append(el);
  el.scrollIntoView({ block: 'nearest' });
}

/** The reply to user message `data.message_id` so far: a bubble that grows while the model writes. */
function showReplyProgress(ctx, data) {
  const { state } = ctx;
  const key = data.message_id;
  if (!key || typeof data.text !== 'string' || state.answered.has(key)) return;
  let reply = state.replies.get(key);
  if (!reply) {
    if (state.messagesEl.querySelector(':scope > .intro, :scope > li.muted')) replace(state.messagesEl);
    // Its own polite live region: screen readers hear the words as they are added, not the whole
    // reply again at every update.
    const body = h('div', { class: 'message-body', 'aria-live': 'polite', 'aria-atomic': 'false', 'aria-relevant': 'additions text' });
    const head = h('div', { class: 'message-head' }, h('strong', null, 'MasterPlan'), ' ', h('span', { class: 'muted small' }, 'writing…'));
    const el = h('li', { class: ['message', 'message-assistant', 'message-streaming'] }, head, body);
    reply = { el, head, body, text: '' };
    state.replies.set(key, reply);
    state.messagesEl.append(el);
  }
  growText(reply, data.text);
  reply.el.scrollIntoView({ block: 'nearest' });
}

/** Shows `text` in a reply bubble: appends what was added, or rewrites it when it starts over (a retried call). */
function growText(reply, text) {
  if (text === reply.text) return;
  if (text.startsWith(reply.text)) reply.body.append(text.slice(reply.text.length)); // a Text node, never markup
  else reply.body.textContent = text;
  reply.text = text;
}

/** The stored reply to user message `key` arrived: its bubble (if one is growing) becomes that message. */
function finishReply(ctx, key, message) {
  const { state } = ctx;
  state.answered.add(key);
  const reply = state.replies.get(key);
  state.replies.delete(key);
  if (!reply) {
    addMessage(ctx, message);
    return;
  }
  if (state.messages.has(message.id)) {
    reply.el.remove();
    return;
  }
  // Updated in place rather than swapped, so assistive technology does not read the reply twice.
  replace(reply.head, h('strong', null, 'MasterPlan'), ' ', timeEl(message.created_at));
  growText(reply, message.content);
  reply.body.normalize();
  reply.body.removeAttribute('aria-live');
  reply.body.removeAttribute('aria-atomic');
  reply.body.removeAttribute('aria-relevant');
  reply.el.classList.remove('message-streaming');
  if (message.plan_id) reply.el.append(planCardOrLink(ctx, message.plan_id, message.content));
  state.messages.set(message.id, reply.el);
  reply.el.scrollIntoView({ block: 'nearest' });
}

/**
 * The plan's live card on the first message that names it (the request); later messages about the same
 * plan (its questions, "ready for review") link to it, so there is one place to act on it.
 */
function planCardOrLink(ctx, planId, content) {
  if (!ctx.state.plans.has(planId)) return planCard(ctx, planId, content);
  return h('p', { class: 'plan-link' }, h('a', { href: `#/plans/${planId}`, class: 'btn btn-small' }, 'Open plan'));
}

/** Live progress of a plan started from a message: status, generation events, link when ready. */
function planCard(ctx, planId, content) {
  const status = h('span', null, badge('generating'));
  const log = h('ol', { class: 'event-log', 'aria-label': 'Generation progress' }, h('li', { class: 'muted' }, 'Waiting for the executor to pick up the request…'));
  const ready = h('div', { class: 'plan-ready', 'aria-live': 'polite' });
  const answer = h('div', { class: 'live-answer-area' });
  const card = h('div', { class: 'plan-card' },
    h('div', { class: 'plan-card-head' }, h('strong', null, 'Plan'), ' ', status, ' ', h('a', { href: `#/plans/${planId}`, class: 'btn btn-small' }, 'Open plan')),
    log, answer, ready);
  const events = [];
  let lastStatus = null;
  // The discovery's questions, answered right here in the conversation.
  const showQuestions = async () => {
    try {
      const discovery = await api.get(`/masterplans/${planId}/discovery`);
      if (ctx.disposed || lastStatus !== 'awaiting_answers') return;
      replace(ready, questionsForm(planId, discovery, {
        headingLevel: 'h3',
        onDone: () => {
          replace(ready);
          showStatus('generating');
          follow(true);
        },
      }));
    } catch (error) {
      replace(ready, errorBox(error));
    }
  };
  const showStatus = (value, reason) => {
    replace(status, badge(value), reason && value !== 'awaiting_answers' ? h('span', { class: 'muted small' }, ` ${reason}`) : null);
    if (value === 'awaiting_answers') {
      if (lastStatus !== value) {
        lastStatus = value;
        showQuestions();
      }
      return;
    }
    if (value === 'generating' && lastStatus === 'awaiting_answers') replace(ready);
    if (value === 'draft' || (lastStatus && lastStatus !== value && !['generating'].includes(value))) {
      replace(ready, value === 'draft'
        ? h('p', null, 'The plan is ready for your review. ', h('a', { href: `#/plans/${planId}`, class: 'btn btn-primary btn-small' }, 'Review the plan'))
        : value === 'generation_failed' ? h('p', { class: 'error-box' }, 'Generation failed. Open the plan to regenerate it.') : null);
    }
    if (lastStatus === 'generating' && value === 'draft') notify('Your plan is ready for review.', 'success');
    lastStatus = value;
  };
  const drawLog = () => {
    const shown = [];
    for (const e of events) {
      const last = shown[shown.length - 1];
      if (last && last.type === e.type && e.type.endsWith('_tokens_progress')) shown[shown.length - 1] = e;
      else shown.push(e);
    }
    replace(log, shown.length ? shown.slice(-12).map((e) => h('li', { class: `event event-${e.type}` }, timeEl(e.created_at), ' ', describeEvent(e)))
      : h('li', { class: 'muted' }, lastStatus && lastStatus !== 'generating' ? `Status: ${words(lastStatus)}.` : 'Waiting for the executor to pick up the request…'));
    // What the model is writing, while it writes it.
    replace(answer, lastStatus === 'generating' || lastStatus === null ? liveAnswer(events, h) : null);
    answer.querySelector('.live-text')?.scrollTo(0, 1e9);
  };
  // While the plan generates, the card reads the plan's own stream from event 0, so what happened
  // before the page was open is shown too; the user stream's copies of the same events are dropped
  // by id.
  const seen = new Set();
  let planStream = null;
  const follow = (generating) => {
    if (generating && !planStream && !ctx.disposed) {
      planStream = new LiveStream(`/masterplans/${planId}/events`, { lastEventId: 0, onEvent: (e) => handle(e) }).start();
      ctx.onCleanup(() => planStream?.close());
    } else if (!generating && planStream) {
      planStream.close();
      planStream = null;
    }
  };
  const refresh = debounce(async () => {
    try {
      const s = await api.get(`/masterplans/${planId}/status`);
      showStatus(s.status, s.status_reason);
      follow(s.status === 'generating');
      drawLog();
    } catch (error) {
      replace(ready, errorBox(error));
    }
  }, 300);
  const handle = (e) => {
    if (e.type === 'chat_message' || seen.has(e.id)) return;
    seen.add(e.id);
    events.push(e);
    events.sort((a, b) => a.id - b.id);
    drawLog();
    if (e.type === 'plan_status_changed' && e.data?.to) {
      showStatus(e.data.to, e.data.reason);
      follow(e.data.to === 'generating');
    } else refresh();
  };
  ctx.state.plans.set(planId, { event: handle, refresh });
  refresh();
  return card;
}

