// Small DOM and formatting helpers. Everything is built with createElement and textContent, never
// innerHTML, so text from the API (plans, code, LLM output) can never become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Adds children (strings, nodes, arrays; null/undefined/false are skipped) to `parent`. */
export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

function applyAttributes(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'open') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** `h('a', {href: '#/plans', class: 'link'}, 'Plans')` → an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttributes(el, attrs);
  return append(el, ...children);
}

/** Like `h`, in the SVG namespace. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttributes(el, attrs);
  return append(el, ...children);
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

let idCounter = 0;
/** A fresh id for label/aria wiring. */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// Formatting -------------------------------------------------------------------------------------

/** US dollars: $0.0124 for small amounts, $1.23 otherwise; "—" when unknown. */
export function money(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '—';
  const n = Number(value);
  const digits = n !== 0 && Math.abs(n) < 0.1 ? 4 : 2;
  return `$${n.toFixed(digits)}`;
}

export function number(value) {
  if (value === null || value === undefined) return '—';
  return Number(value).toLocaleString('en-US');
}

export function percent(part, whole) {
  if (!whole) return '0 %';
  return `${Math.round((100 * part) / whole)} %`;
}

/** 75 → "1 min 15 s", 3900 → "1 h 5 min". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hours = Math.floor(m / 60);
  return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** "3 min ago", with the full time as a tooltip when used through `timeEl`. */
export function ago(iso) {
  if (!iso) return '—';
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return dateTime(iso);
}

export function timeEl(iso, relative = true) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: dateTime(iso) }, relative ? ago(iso) : dateTime(iso));
}

export function plural(n, one, many = `${one}s`) {
  return `${number(n)} ${n === 1 ? one : many}`;
}

/** "needs_review" → "needs review". */
export function words(text) {
  return String(text ?? '').replaceAll('_', ' ');
}

/** Statuses that ask something of the person, in words that say so. */
const STATUS_WORDS = { awaiting_answers: 'waiting for your answers' };

/** A status in words, saying what the person must do where it is theirs to act. */
export function statusWords(status) {
  return STATUS_WORDS[status] || words(status);
}

/** A coloured status badge (plan, wave, atom, review, task and job statuses share the palette). */
export function badge(status, extraClass = '') {
  return h('span', { class: ['badge', `status-${status}`, extraClass] }, statusWords(status));
}

export function priorityBadge(priority) {
  const p = String(priority || '').toLowerCase();
  return h('span', { class: ['badge', `prio-${p}`], title: p === 'must' ? 'MUST: has to pass (Gate S needs 100 %)' : p === 'should' ? 'SHOULD: 95 % of these must pass' : null },
    p.toUpperCase());
}

export function confidenceEl(value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, '—');
  const v = Number(value);
  const level = v < 0.5 ? 'low' : v < 0.7 ? 'medium' : 'high';
  return h('span', { class: ['confidence', `confidence-${level}`], title: `confidence ${v.toFixed(2)} (reviews below 0.70)` }, v.toFixed(2));
}

export function shortSha(sha) {
  return sha ? String(sha).slice(0, 10) : '—';
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * Runs `rebuild` (which replaces DOM) and puts the keyboard focus back on the element with the
 * same `data-key` or `data-action`, so live refreshes do not throw a keyboard user to the top.
 */
export function keepFocus(rebuild) {
  const active = document.activeElement;
  const key = active?.dataset?.key ? `[data-key="${CSS.escape(active.dataset.key)}"]`
    : active?.dataset?.action ? `[data-action="${CSS.escape(active.dataset.action)}"]` : null;
  rebuild();
  if (key && !document.contains(active)) document.querySelector(key)?.focus({ preventScroll: true });
}
