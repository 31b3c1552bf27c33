// The hash router: "#/plans/{id}/execution?tab=x" → a page module and its parameters. Each page
// module exports `default render(ctx)`; it may export `update(ctx)` to handle a change of the query
// alone (a tab, a selected file) without rebuilding the page. `ctx.onCleanup(fn)` registers what
// to stop (event streams, timers) when the user leaves the page.

const routes = [];

/** Registers `pattern` ("/plans/:id") with a loader returning the page module. */
export function route(pattern, load, { public: isPublic = false } = {}) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:[a-z]+/g, (m) => {
    names.push(m.slice(1));
    return '([^/]+)';
  })}$`);
  routes.push({ pattern, regex, names, load, isPublic });
}

/** The current hash as {path, query}. */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(search)) };
}

export function match(path) {
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) return { route: r, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return null;
}

/** Builds "#/path?k=v" (empty values dropped). */
export function link(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, v);
  const text = params.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function navigate(path, query, { replace = false } = {}) {
  const target = link(path, query);
  if (replace) history.replaceState(null, '', target);
  else location.hash = target;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/**
 * Starts routing. `mount(match, location)` is called for every change; it decides (auth) and
 * renders. Returns a function that re-renders the current location.
 */
export function startRouter(mount) {
  const run = () => mount(currentLocation());
  window.addEventListener('hashchange', run);
  run();
  return run;
}
