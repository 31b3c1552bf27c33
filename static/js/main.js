// The review UI's entry point: the page shell (header, navigation, demo banner, notices), the
// routes, the login guard, and each page's lifecycle.

import { api, borrowSession, lendSession, session, setUnauthorizedHandler } from './api.js';
import { errorBox, loading, pageHeader } from './components.js';
import { h, replace } from './dom.js';
import { currentLocation, link, match, route, startRouter } from './router.js';

route('/login', () => import('./pages/login.js'), { public: true });
route('/chat', () => import('./pages/chat.js'));
route('/chat/:id', () => import('./pages/chat.js'));
route('/plans', () => import('./pages/plans.js'));
route('/plans/:id', () => import('./pages/plan.js'));
route('/plans/:id/execution', () => import('./pages/execution.js'));
route('/plans/:id/workspace', () => import('./pages/workspace.js'));
route('/reviews', () => import('./pages/reviews.js'));
route('/reviews/:id', () => import('./pages/review.js'));
route('/usage', () => import('./pages/usage.js'));

const LOGIN_MESSAGE_KEY = 'masterplan.loginMessage';

/** Sends the user to the login page with `message`, coming back here afterwards. */
export function requireLogin(message) {
  if (message) sessionStorage.setItem(LOGIN_MESSAGE_KEY, message);
  const here = location.hash.replace(/^#/, '');
  if (here.startsWith('/login')) return;
  location.hash = link('/login', { next: here && here !== '/' ? here : null });
}

/** The message the login page should show once (why the user was sent there). */
export function takeLoginMessage() {
  const message = sessionStorage.getItem(LOGIN_MESSAGE_KEY);
  sessionStorage.removeItem(LOGIN_MESSAGE_KEY);
  return message;
}

setUnauthorizedHandler((message) => requireLogin(message));

// Shell -------------------------------------------------------------------------------------------

const nav = [
  { path: '/chat', label: 'New request', match: /^\/chat/ },
  { path: '/plans', label: 'Plans', match: /^\/plans/ },
  { path: '/reviews', label: 'Reviews', match: /^\/reviews/ },
  { path: '/usage', label: 'Usage', match: /^\/usage/ },
];

const reviewCount = h('span', { class: 'count', hidden: true });
const navLinks = nav.map((item) => h('a', { href: `#${item.path}`, class: 'nav-link', 'data-path': item.path },
  item.label, item.path === '/reviews' ? reviewCount : null));
const userName = h('span', { class: 'user-name' });
const logout = h('button', { type: 'button', class: 'btn btn-small btn-quiet' }, 'Log out');
logout.addEventListener('click', () => {
  session.clear();
  sessionStorage.setItem(LOGIN_MESSAGE_KEY, 'You have logged out.');
  location.hash = '#/login';
});
const userBox = h('div', { class: 'user-box' }, userName, logout);
const navBar = h('nav', { class: 'main-nav', 'aria-label': 'Main' }, navLinks);
const demoBanner = h('div', { class: 'demo-banner', role: 'note', hidden: true });

document.getElementById('app').replaceChildren(
  h('a', { href: '#main', class: 'skip-link', onclick: (e) => { e.preventDefault(); document.getElementById('main').focus(); } }, 'Skip to content'),
  demoBanner,
  h('header', { class: 'site-header' },
    h('a', { href: '#/plans', class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◆'), 'MasterPlan'),
    navBar, userBox),
  h('div', { id: 'notices', class: 'notices', role: 'status', 'aria-live': 'polite' }),
  h('main', { id: 'main', tabindex: '-1' }));

function updateShell(path) {
  const loggedIn = Boolean(session.token);
  navBar.hidden = !loggedIn;
  userBox.hidden = !loggedIn;
  userName.textContent = session.user?.display_name || session.user?.email || '';
  for (const [i, a] of navLinks.entries()) {
    if (nav[i].match.test(path)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Pending reviews in the navigation (a number beside "Reviews"). */
export async function refreshReviewCount() {
  if (!session.token) return;
  try {
    const page = await api.get('/reviews', { query: { status: 'pending', limit: 100 } });
    const n = page.items.length;
    reviewCount.hidden = n === 0;
    reviewCount.textContent = page.next_cursor ? '100+' : String(n);
    reviewCount.setAttribute('aria-label', `${reviewCount.textContent} pending`);
  } catch {
    reviewCount.hidden = true;
  }
}

/**
 * The scripted-demo banner: shown when the server says a demo model answers
 * (`"demo_model": true` on GET /health/ready or GET /me).
 */
export async function refreshDemoBanner() {
  const sources = [api.get('/health/ready', { auth: false }).catch((e) => e.problem || null)];
  if (session.token) sources.push(api.get('/me').then((me) => { session.setUser(me); return me; }).catch(() => null));
  const answers = await Promise.all(sources);
  const demo = answers.find((a) => a && (a.demo_model === true || a.checks?.llm?.demo_model === true || a.llm?.demo_model === true));
  if (demo) {
    const model = demo.model || demo.llm?.model || demo.checks?.llm?.model;
    replace(demoBanner, h('strong', null, 'Demo mode: '),
      `a scripted demo model${model ? ` (${model})` : ''} is answering, not a real LLM. Plans and code come from the bundled script.`);
    demoBanner.hidden = false;
  } else {
    demoBanner.hidden = true;
  }
}

// Page lifecycle -------------------------------------------------------------------------------

let current = { key: null, module: null, ctx: null };

function disposeCurrent() {
  if (!current.ctx) return;
  current.ctx.disposed = true;
  for (const fn of current.ctx.cleanups.splice(0)) {
    try {
      fn();
    } catch (error) {
      console.error(error);
    }
  }
}

async function mount(loc) {
  const found = match(loc.path);
  const main = document.getElementById('main');
  if (loc.path === '/' || !found) {
    if (loc.path === '/') {
      location.replace(session.token ? '#/plans' : '#/login');
      return;
    }
  }
  if (found && !found.route.isPublic && !session.token) {
    const expired = sessionStorage.getItem('masterplan.session') !== null;
    session.clear();
    requireLogin(expired ? 'Your session has expired. Please log in again.' : null);
    return;
  }
  updateShell(loc.path);
  const key = found ? `${found.route.pattern}|${JSON.stringify(found.params)}` : `404|${loc.path}`;
  if (key === current.key && current.module?.update && !current.ctx.disposed) {
    current.ctx.query = loc.query;
    try {
      await current.module.update(current.ctx);
    } catch (error) {
      console.error(error);
    }
    return;
  }
  disposeCurrent();
  const container = h('div', { class: 'page' });
  replace(main, container);
  const ctx = {
    params: found?.params || {},
    query: loc.query,
    main: container,
    cleanups: [],
    disposed: false,
    onCleanup(fn) {
      if (this.disposed) fn();
      else this.cleanups.push(fn);
    },
    setTitle(title) {
      if (!this.disposed) document.title = title ? `${title} · MasterPlan` : 'MasterPlan';
    },
  };
  current = { key, module: null, ctx };
  if (!found) {
    ctx.setTitle('Not found');
    replace(container, pageHeader('Page not found'), h('p', null, 'There is no page at this address. ', h('a', { href: '#/plans' }, 'Go to your plans'), '.'));
    focusHeading(container);
    return;
  }
  container.append(loading());
  let module;
  try {
    module = await found.route.load();
  } catch (error) {
    replace(container, errorBox(error));
    return;
  }
  if (ctx.disposed) return;
  current.module = module;
  try {
    await module.default(ctx);
  } catch (error) {
    if (!ctx.disposed) replace(container, errorBox(error, { retry: () => mount(currentLocation()) }));
  }
  if (!ctx.disposed) focusHeading(container);
  if (found.route.pattern !== '/login') refreshReviewCount();
}

let firstRender = true;
function focusHeading(container) {
  // Move focus to the new page's heading, as a full page load would reset it (not on first load:
  // the browser's own start position is fine there).
  if (firstRender) {
    firstRender = false;
    return;
  }
  const heading = container.querySelector('h1');
  if (heading) heading.focus({ preventScroll: false });
  window.scrollTo(0, 0);
}

/** Re-renders the current page from scratch (after login, or when a page asks). */
export function rerender() {
  current.key = null;
  mount(currentLocation());
}

// A tab opened from another borrows its session before the first page decides whether to log in.
lendSession();
borrowSession().finally(() => {
  refreshDemoBanner();
  startRouter(mount);
});
