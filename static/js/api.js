// The REST client: the bearer token, JSON in and out, and problem+json errors turned into plain
// words. A 401 anywhere ends the session and goes back to the login page with a message.

export const API_BASE = '/api/v1';
const STORAGE_KEY = 'masterplan.session';

/** The logged-in session (token, expiry, user), kept in sessionStorage: closing the tab logs out. */
export const session = {
  read() {
    try {
      const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
      if (!value || !value.token) return null;
      if (value.expiresAt && Date.parse(value.expiresAt) <= Date.now()) return null;
      return value;
    } catch {
      return null;
    }
  },
  get token() {
    return this.read()?.token ?? null;
  },
  get user() {
    return this.read()?.user ?? null;
  },
  save(login) {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({
      token: login.access_token, expiresAt: login.expires_at ?? null, user: login.user ?? null,
    }));
  },
  setUser(user) {
    const value = this.read();
    if (value) sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ ...value, user }));
  },
  clear() {
    sessionStorage.removeItem(STORAGE_KEY);
  },
};

const CHANNEL = 'masterplan.session';

/**
 * A tab opened from another ("open in new tab") starts with no session of its own. It asks this
 * origin's open tabs for theirs over a BroadcastChannel, so the person stays logged in: the token
 * goes from one tab's memory to another's, never through a URL, a cookie or storage that outlives
 * the tabs (closing the last tab still logs out). Waits at most `wait` ms; true when a tab answered.
 */
export async function borrowSession(wait = 400) {
  if (session.read() || typeof BroadcastChannel === 'undefined') return false;
  const channel = new BroadcastChannel(CHANNEL);
  try {
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), wait);
      channel.onmessage = (event) => {
        const lent = event.data?.type === 'session' ? event.data.session : null;
        if (!lent?.token || session.read()) return;
        sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token: lent.token, expiresAt: lent.expiresAt ?? null, user: lent.user ?? null }));
        if (session.read()) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      channel.postMessage({ type: 'ask' });
    });
  } finally {
    channel.close();
  }
}

/** Answers other tabs of this origin that ask for the session (`borrowSession`) while this tab has one. */
export function lendSession() {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => {
    const current = session.read();
    if (event.data?.type === 'ask' && current) channel.postMessage({ type: 'session', session: current });
  };
}

/** An API failure: the HTTP status and the problem document (RFC 9457), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem, { handled = false } = {}) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || {};
    /** True when the client already acted on it (a 401 sent the user to the login page). */
    this.handled = handled;
  }

  /** The stable short name of the problem type, e.g. "illegal-transition". */
  get kind() {
    const type = this.problem.type || '';
    return type.slice(type.lastIndexOf('/') + 1);
  }
}

const PLAIN_TITLES = {
  0: 'The MasterPlan server cannot be reached.',
  401: 'You need to log in again.',
  403: 'You are not allowed to do that.',
  404: 'This was not found.',
  429: 'Too many attempts.',
  500: 'The server had a problem.',
  502: 'The service is not running.',
  503: 'The service is not available right now.',
};

/**
 * What went wrong, in plain words: `{title, detail, fields}` where `fields` lists validation errors
 * as "field: message". Works for ApiError and for any other thrown value.
 */
export function describeError(error) {
  if (error instanceof ApiError) {
    const p = error.problem;
    const fields = Array.isArray(p.errors) ? p.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)) : [];
    let detail = p.detail || '';
    if (fields.length > 0 && detail && fields.some((f) => detail.startsWith(f))) detail = '';
    if (error.status === 0) detail = 'Check your network connection and that the service is running, then try again.';
    if (error.status === 429 && !detail) detail = 'Wait a minute, then try again.';
    if (Array.isArray(p.allowed_actions) && !/allowed|possible/i.test(detail)) {
      detail += p.allowed_actions.length ? ` Possible now: ${p.allowed_actions.join(', ')}.` : '';
    }
    return { title: p.title || PLAIN_TITLES[error.status] || `The request failed (HTTP ${error.status}).`, detail: detail.trim(), fields };
  }
  return { title: 'Something went wrong in the page.', detail: String(error?.message || error), fields: [] };
}

let onUnauthorized = () => {};
/** Called with a message when the server answers 401 (set by main.js: go to the login page). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * One API call. `path` is relative to /api/v1 (or absolute when it starts with "/health").
 * Returns parsed JSON (or the Response when `raw`), throws ApiError.
 */
export async function request(method, path, { body, query, raw = false, auth = true, signal } = {}) {
  let url = path.startsWith('/health') ? path : `${API_BASE}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
    const text = params.toString();
    if (text) url += `${url.includes('?') ? '&' : '?'}${text}`;
  }
  const headers = { Accept: raw ? '*/*' : 'application/json' };
  const token = session.token;
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, signal, cache: 'no-store' });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new ApiError(0, { title: PLAIN_TITLES[0] });
  }
  if (!response.ok) {
    let problem = null;
    const type = response.headers.get('Content-Type') || '';
    try {
      if (type.includes('json')) problem = await response.json();
    } catch {
      problem = null;
    }
    if (!problem) problem = { title: PLAIN_TITLES[response.status] || `The request failed (HTTP ${response.status}).`, status: response.status };
    if (response.status === 401 && auth) {
      session.clear();
      // The server's detail is written for API clients ("…; log in again with POST /auth/login"):
      // keep its first clause as the reason.
      const reason = String(problem.detail || '').split(';')[0].trim();
      onUnauthorized(`Your session has ended${reason ? ` (${reason})` : ''}. Please log in again.`);
      throw new ApiError(401, problem, { handled: true });
    }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options) => request('POST', path, { ...options, body: body ?? {} }),
  patch: (path, body, options) => request('PATCH', path, { ...options, body }),
};

/** Every item of a cursor-paginated list (follows next_cursor), at most `max` items. */
export async function getAll(path, query = {}, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const page = await api.get(path, { query: { ...query, limit: 200, cursor } });
    items.push(...(page.items || []));
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** Downloads an authenticated binary as a Blob; `blob.fileName` is the name the server gave it (Content-Disposition), if any. */
export async function getBlob(path) {
  const response = await request('GET', path, { raw: true });
  const blob = await response.blob();
  const named = /filename="([^"\\]+)"/.exec(response.headers.get('content-disposition') || '');
  if (named) blob.fileName = named[1];
  return blob;
}
