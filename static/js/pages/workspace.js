// #/plans/{id}/workspace?file=path — the committed workspace, read from GET …/workspace.tar.gz
// (the API has no file-listing route): fetched with the bearer token, gunzipped with
// DecompressionStream and read as tar in the page. The same archive is offered as a download.

import { ApiError, getBlob } from '../api.js';
import { codeBlock, empty, errorBox, loading, notify, pageHeader, saveBlob } from '../components.js';
import { h, number, replace, shortSha, uid } from '../dom.js';
import { link } from '../router.js';
import { decodeText, gunzip, isText, readTar } from '../tar.js';

const cache = new Map(); // plan id → {blob, files, commit, fetchedAt}
const MAX_SHOWN_BYTES = 512 * 1024;

async function loadArchive(id, { fresh = false } = {}) {
  const cached = cache.get(id);
  if (cached && !fresh) return cached;
  const blob = await getBlob(`/masterplans/${id}/workspace.tar.gz`);
  const tar = readTar(await gunzip(blob));
  // The archive is a git repository: its history (.git) is for `git log` after download, not for browsing.
  const all = tar.files.filter((f) => f.type === 'file' || f.type === 'symlink');
  const files = all.filter((f) => !/(^|\/)\.git(\/|$)/.test(f.path));
  const commit = tar.comment || headCommit(all);
  // `git archive --prefix=NAME/` puts everything in one folder: show paths inside it.
  const first = files[0]?.path.split('/')[0];
  const prefix = first && files.every((f) => f.path.startsWith(`${first}/`)) ? `${first}/` : '';
  for (const f of files) f.shortPath = f.path.slice(prefix.length);
  files.sort((a, b) => a.shortPath.localeCompare(b.shortPath));
  const entry = { blob, files, commit, root: prefix.replace(/\/$/, ''), fetchedAt: new Date() };
  cache.set(id, entry);
  return entry;
}

/** The commit the archive's checkout is at, from its .git (HEAD, then the loose or packed ref it names). */
function headCommit(entries) {
  const text = (suffix) => {
    const f = entries.find((e) => e.type === 'file' && e.path.endsWith(suffix) && /(^|\/)\.git\//.test(e.path));
    return f ? decodeText(f.data).trim() : null;
  };
  const head = text('.git/HEAD');
  if (!head) return null;
  if (/^[0-9a-f]{40,64}$/.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  const loose = text(`.git/${ref}`);
  if (loose && /^[0-9a-f]{40,64}$/.test(loose)) return loose;
  const packed = (text('.git/packed-refs') || '').split('\n').map((l) => l.split(' ')).find((p) => p[1] === ref);
  return packed?.[0] || null;
}

export default async function render(ctx) {
  const id = ctx.params.id;
  ctx.setTitle('Workspace');
  const download = h('button', { type: 'button', class: 'btn btn-primary' }, 'Download .tar.gz');
  const reload = h('button', { type: 'button', class: 'btn' }, 'Reload');
  const body = h('div', { class: 'workspace' }, loading('Fetching the workspace archive…'));
  replace(ctx.main,
    pageHeader('Workspace', {
      subtitle: 'The files the executor committed (validated and accepted content only).',
      actions: [download, reload, h('a', { href: `#/plans/${id}/execution`, class: 'btn' }, 'Execution'), h('a', { href: `#/plans/${id}`, class: 'btn' }, 'Plan')],
    }),
    body);

  download.addEventListener('click', async () => {
    download.disabled = true;
    try {
      const entry = cache.get(id) || await loadArchive(id);
      saveBlob(entry.blob, entry.blob.fileName || `masterplan-${id}.tar.gz`);
      notify('The archive is downloading.', 'success');
    } catch (error) {
      replace(body, errorBox(error));
    } finally {
      download.disabled = false;
    }
  });
  reload.addEventListener('click', () => show(true));

  ctx.state = { id, body };
  const show = async (fresh) => {
    replace(body, loading('Fetching the workspace archive…'));
    try {
      ctx.state.archive = await loadArchive(id, { fresh });
      if (ctx.disposed) return;
      renderBrowser(ctx);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        download.disabled = true;
        replace(body, h('div', { class: 'empty-state' }, errorBox(error)));
      } else replace(body, errorBox(error, { retry: () => show(true) }));
    }
  };
  await show(false);
}

export async function update(ctx) {
  if (ctx.state?.archive) renderFile(ctx);
}

function renderBrowser(ctx) {
  const { archive, id } = ctx.state;
  const { files } = archive;
  if (!files.length) {
    replace(ctx.state.body, empty('The archive is empty: no wave has committed files yet.'));
    return;
  }
  const filterId = uid('filter');
  const filter = h('input', { id: filterId, type: 'search', placeholder: 'app/', autocomplete: 'off' });
  const tree = h('nav', { class: 'file-tree', 'aria-label': 'Files' });
  const drawTree = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? files.filter((f) => f.shortPath.toLowerCase().includes(q)) : files;
    replace(tree, shown.length ? treeList(buildTree(shown), id, ctx.query.file) : h('p', { class: 'muted' }, 'No file matches.'));
  };
  filter.addEventListener('input', drawTree);
  ctx.state.tree = tree;
  ctx.state.viewer = h('section', { class: 'file-view', 'aria-live': 'polite' });
  const total = files.reduce((n, f) => n + f.size, 0);
  replace(ctx.state.body,
    h('p', { class: 'muted' }, `${number(files.length)} files, ${number(Math.round(total / 1024))} KiB`,
      archive.commit ? [' · commit ', h('code', { title: archive.commit }, shortSha(archive.commit))] : null,
      archive.root ? [' · folder ', h('code', null, archive.root)] : null),
    h('div', { class: 'workspace-layout' },
      h('div', { class: 'file-side card' }, h('div', { class: 'field' }, h('label', { for: filterId }, 'Filter files'), filter), tree),
      ctx.state.viewer));
  drawTree();
  renderFile(ctx);
}

function buildTree(files) {
  const root = { dirs: new Map(), files: [] };
  for (const f of files) {
    const parts = f.shortPath.split('/');
    let node = root;
    for (const dir of parts.slice(0, -1)) {
      if (!node.dirs.has(dir)) node.dirs.set(dir, { dirs: new Map(), files: [] });
      node = node.dirs.get(dir);
    }
    node.files.push({ name: parts[parts.length - 1], file: f });
  }
  return root;
}

function treeList(node, id, selected) {
  return h('ul', null,
    [...node.dirs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, child]) => h('li', { class: 'dir' },
      h('details', { open: true }, h('summary', null, `${name}/`), treeList(child, id, selected)))),
    node.files.map(({ name, file }) => h('li', { class: 'file' },
      h('a', { href: link(`/plans/${id}/workspace`, { file: file.shortPath }), 'aria-current': file.shortPath === selected ? 'page' : null, title: `${file.shortPath} (${number(file.size)} bytes)`, 'data-size': file.size }, name))));
}

function renderFile(ctx) {
  const { archive, viewer, tree } = ctx.state;
  const path = ctx.query.file;
  for (const a of tree.querySelectorAll('a')) {
    const isCurrent = new URLSearchParams(a.getAttribute('href').split('?')[1]).get('file') === path;
    if (isCurrent) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!path) {
    replace(viewer, h('p', { class: 'muted' }, 'Choose a file to see its content.'));
    return;
  }
  const file = archive.files.find((f) => f.shortPath === path);
  if (!file) {
    replace(viewer, h('p', { class: 'error-box', role: 'alert' }, `There is no file ${path} in this workspace.`));
    return;
  }
  const head = h('div', { class: 'code-head' }, h('h2', null, h('code', null, file.shortPath)), h('span', { class: 'muted small' }, `${number(file.size)} bytes`));
  if (file.type === 'symlink') {
    replace(viewer, head, h('p', null, 'A symbolic link to ', h('code', null, file.link), '.'));
  } else if (!isText(file.data)) {
    replace(viewer, head, h('p', { class: 'muted' }, 'A binary file: download the archive to open it.'));
  } else if (file.size > MAX_SHOWN_BYTES) {
    replace(viewer, head, h('p', { class: 'muted' }, `Too large to show here (${number(file.size)} bytes); download the archive to read it.`));
  } else if (file.size === 0) {
    replace(viewer, head, h('p', { class: 'muted' }, 'An empty file.'));
  } else {
    replace(viewer, head, codeBlock(decodeText(file.data), { label: file.shortPath }));
  }
}
