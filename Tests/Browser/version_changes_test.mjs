// planChanges, changeCount and versionChangesView (static/js/versionChanges.js) in node, without a
// browser: per-task changes between two plan version snapshots, fields an older snapshot did not
// record kept apart from real changes, and the rendered text.
//
// Usage (from the repository root): node --test Tests/Browser/version_changes_test.mjs
// static/ has no package.json, so node before 22 would read its .js files as CommonJS; like
// live_stream_test.mjs, the modules are copied into a folder with {"type": "module"} first.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const staticJS = fileURLToPath(new URL('../../static/js/', import.meta.url));
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'version-changes-'));
for (const file of ['versionChanges.js', 'diff.js']) fs.copyFileSync(path.join(staticJS, file), path.join(folder, file));
fs.writeFileSync(path.join(folder, 'package.json'), '{"type": "module"}\n');
const { planChanges, changeCount, versionChangesView } = await import(pathToFileURL(path.join(folder, 'versionChanges.js')).href);
after(() => fs.rmSync(folder, { recursive: true, force: true }));

/** A small plan: phase 1 with milestones 1.1 (tasks 1, 2) and 1.2 (task 3), phase 2 with milestone 2.1 (task 4). */
function snapshot() {
  const task = (number, name, extra = {}) => ({
    number, name, description: `Does ${name.toLowerCase()}.`, complexity: 'medium', depends_on: [], files: [`src/t${number}.py`],
    subtasks: [{ number: 1, name: 'Write it', description: 'The code.' }],
    acceptance: [{ priority: 'must', criterion: `${name} works` }], ...extra,
  });
  return {
    project_name: 'Todo API',
    summary: 'A small REST API.',
    tech_stack: { language: 'Python 3.11', framework: 'FastAPI', database: null, test_command: 'pytest -q', other: ['pydantic'] },
    phases: [
      { number: 1, kind: 'setup', name: 'Foundation', description: 'Base.', milestones: [
        { number: 1, name: 'Skeleton', description: 'App skeleton.', tasks: [task(1, 'Create app'), task(2, 'Add models', { depends_on: [1] })] },
        { number: 2, name: 'Auth', description: 'Login.', tasks: [task(3, 'Add login', { depends_on: [1, 2], files: ['src/auth.py', 'src/jwt.py'] })] },
      ] },
      { number: 2, kind: 'feature', name: 'Features', description: 'The API.', milestones: [
        { number: 1, name: 'Todos', description: 'CRUD.', tasks: [task(4, 'Todo routes', { depends_on: [2, 3] })] },
      ] },
    ],
    acceptance_tests: [
      { name: 'test_login', priority: 'must', file: 'tests/test_auth.py', covers: [3], code: 'def test_login():\n    assert login()\n' },
      { name: 'test_todos', priority: 'should', file: 'tests/test_todos.py', covers: [4], code: 'def test_todos():\n    assert list_todos() == []\n' },
    ],
  };
}

const allTasks = (plan) => plan.phases.flatMap((p) => p.milestones.flatMap((m) => m.tasks));
const taskOf = (plan, number) => allTasks(plan).find((t) => t.number === number);
const changedTask = (changes, number) => changes.tasks.changed.find((t) => t.number === number);
const fieldOf = (entry, field) => entry?.fields.find((f) => f.field === field);

describe('planChanges', () => {
  test('identical snapshots have no changes', () => {
    const changes = planChanges(snapshot(), snapshot());
    assert.deepEqual(changes.plan, []);
    assert.deepEqual(changes.phases, []);
    assert.deepEqual(changes.tasks, { added: [], removed: [], changed: [] });
    assert.deepEqual(changes.tests, { added: [], removed: [], changed: [] });
    assert.deepEqual(changes.unrecorded, []);
    assert.equal(changeCount(changes), 0);
  });

  test('a renamed task is one scalar change', () => {
    const later = snapshot();
    taskOf(later, 2).name = 'Add data models';
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.tasks.changed, [{ number: 2, name: 'Add data models', fields: [{ field: 'name', before: 'Add models', after: 'Add data models' }] }]);
    assert.deepEqual(changes.tasks.added, []);
    assert.deepEqual(changes.tasks.removed, []);
    assert.equal(changeCount(changes), 1);
  });

  test('an added and a removed task', () => {
    const later = snapshot();
    const skeleton = later.phases[0].milestones[0];
    skeleton.tasks = skeleton.tasks.filter((t) => t.number !== 2);
    later.phases[1].milestones[0].tasks.push({ number: 5, name: 'Pagination', description: 'Pages.', complexity: 'low',
      depends_on: [4], files: ['src/pages.py'], subtasks: [], acceptance: [] });
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.tasks.added.map((t) => [t.number, t.name]), [[5, 'Pagination']]);
    assert.deepEqual(changes.tasks.removed.map((t) => [t.number, t.name]), [[2, 'Add models']]);
    assert.deepEqual(changes.tasks.changed, []);
    assert.equal(changeCount(changes), 2);
  });

  test('a dependency added and one removed', () => {
    const later = snapshot();
    taskOf(later, 4).depends_on = [3, 1];
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(fieldOf(changedTask(changes, 4), 'depends_on'), { field: 'depends_on', added: [1], removed: [2] });
    assert.equal(changes.tasks.changed.length, 1);
    assert.equal(changeCount(changes), 2);
  });

  test('a reordered list is no change', () => {
    const later = snapshot();
    taskOf(later, 3).depends_on = [2, 1];
    taskOf(later, 3).files = ['src/jwt.py', 'src/auth.py'];
    assert.equal(changeCount(planChanges(snapshot(), later)), 0);
  });

  test('files changed', () => {
    const later = snapshot();
    taskOf(later, 3).files = ['src/auth.py', 'src/tokens.py', 'src/hash.py'];
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(fieldOf(changedTask(changes, 3), 'files'), { field: 'files', added: ['src/tokens.py', 'src/hash.py'], removed: ['src/jwt.py'] });
    assert.equal(changeCount(changes), 3);
  });

  test('a criterion added, and one changed in priority only', () => {
    const later = snapshot();
    taskOf(later, 1).acceptance.push({ priority: 'should', criterion: 'Starts in under a second' });
    taskOf(later, 2).acceptance[0].priority = 'should';
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(fieldOf(changedTask(changes, 1), 'acceptance'),
      { field: 'acceptance', added: [{ priority: 'should', criterion: 'Starts in under a second' }], removed: [] });
    assert.deepEqual(fieldOf(changedTask(changes, 2), 'acceptance'),
      { field: 'acceptance', added: [{ priority: 'should', criterion: 'Add models works' }], removed: [{ priority: 'must', criterion: 'Add models works' }] });
  });

  test('subtasks by number and name, with a kept subtask\'s new description', () => {
    const later = snapshot();
    taskOf(later, 1).subtasks = [{ number: 1, name: 'Write it', description: 'The code, typed.' }, { number: 2, name: 'Test it', description: 'Unit tests.' }];
    const fields = changedTask(planChanges(snapshot(), later), 1).fields;
    assert.deepEqual(fieldOf({ fields }, 'subtasks'), { field: 'subtasks', added: [{ number: 2, name: 'Test it', description: 'Unit tests.' }], removed: [] });
    assert.deepEqual(fieldOf({ fields }, 'subtasks.1.description'), { field: 'subtasks.1.description', before: 'The code.', after: 'The code, typed.' });
  });

  test('a task moved to another milestone reports `milestone`, not removed and added', () => {
    const later = snapshot();
    const auth = later.phases[0].milestones[1];
    const moved = auth.tasks.pop();
    later.phases[1].milestones[0].tasks.unshift(moved);
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.tasks.added, []);
    assert.deepEqual(changes.tasks.removed, []);
    assert.deepEqual(changes.tasks.changed, [{ number: 3, name: 'Add login', fields: [{ field: 'milestone', before: '1.2', after: '2.1' }] }]);
  });

  test('tech_stack.test_command changed, and framework set to none', () => {
    const later = snapshot();
    later.tech_stack.test_command = 'pytest -q -x';
    later.tech_stack.framework = null;
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.plan, [
      { field: 'tech_stack.framework', before: 'FastAPI', after: null },
      { field: 'tech_stack.test_command', before: 'pytest -q', after: 'pytest -q -x' },
    ]);
    assert.deepEqual(changes.unrecorded, []);
    assert.equal(changeCount(changes), 2);
  });

  test('acceptance_tests missing in one version is unrecorded, not every test removed', () => {
    const older = snapshot();
    delete older.acceptance_tests;
    const changes = planChanges(older, snapshot());
    assert.deepEqual(changes.tests, { added: [], removed: [], changed: [] });
    assert.deepEqual(changes.unrecorded, ['acceptance_tests']);
    assert.deepEqual(changes.unrecordedIn, { before: ['acceptance_tests'], after: [] });
    assert.equal(changeCount(changes), 0);

    const newer = snapshot();
    delete newer.acceptance_tests;
    const backwards = planChanges(snapshot(), newer);
    assert.deepEqual(backwards.tests.removed, []);
    assert.deepEqual(backwards.unrecordedIn, { before: [], after: ['acceptance_tests'] });
  });

  test('other missing or null fields are unrecorded too', () => {
    const older = snapshot();
    delete older.tech_stack.other;
    taskOf(older, 1).description = null;
    delete taskOf(older, 2).complexity;
    const later = snapshot();
    later.tech_stack.other = ['pydantic', 'uvicorn'];
    taskOf(later, 1).description = 'Creates the app.';
    const changes = planChanges(older, later);
    assert.deepEqual(changes.plan, []);
    assert.deepEqual(changes.tasks.changed, []);
    assert.deepEqual(changes.unrecorded.sort(), ['tasks.complexity', 'tasks.description', 'tech_stack.other']);
    assert.equal(changeCount(changes), 0);
  });

  test('test code changed, with line counts', () => {
    const later = snapshot();
    later.acceptance_tests[0].code = 'def test_login():\n    token = login()\n    assert token\n';
    const changes = planChanges(snapshot(), later);
    assert.equal(changes.tests.changed.length, 1);
    const { name, fields } = changes.tests.changed[0];
    assert.equal(name, 'test_login');
    assert.equal(fields.length, 1);
    assert.equal(fields[0].field, 'code');
    assert.equal(fields[0].linesAdded, 2);
    assert.equal(fields[0].linesRemoved, 1);
    assert.equal(changeCount(changes), 1);
  });

  test('tests added and removed by name; covers as a list', () => {
    const later = snapshot();
    later.acceptance_tests[1].covers = [4, 2];
    later.acceptance_tests[0].name = 'test_login_ok';
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.tests.added.map((t) => t.name), ['test_login_ok']);
    assert.deepEqual(changes.tests.removed.map((t) => t.name), ['test_login']);
    assert.deepEqual(changes.tests.changed, [{ name: 'test_todos', fields: [{ field: 'covers', added: [2], removed: [] }] }]);
  });

  test('phases and milestones: renamed, kind changed, added, removed', () => {
    const later = snapshot();
    later.phases[0].name = 'Groundwork';
    later.phases[1].kind = 'hardening';
    later.phases[0].milestones.pop();
    later.phases.push({ number: 3, kind: 'release', name: 'Release', description: 'Ship.', milestones: [] });
    const changes = planChanges(snapshot(), later);
    assert.deepEqual(changes.phases, [
      { level: 'phase', number: 1, name: 'Groundwork', change: 'changed', fields: [{ field: 'name', before: 'Foundation', after: 'Groundwork' }] },
      { level: 'milestone', number: '1.2', name: 'Auth', change: 'removed' },
      { level: 'phase', number: 2, name: 'Features', change: 'changed', fields: [{ field: 'kind', before: 'feature', after: 'hardening' }] },
      { level: 'phase', number: 3, name: 'Release', change: 'added' },
    ]);
    assert.deepEqual(changes.tasks.removed.map((t) => t.number), [3]);
  });
});

// A stand-in for dom.js's h: plain objects, children flattened and null/false skipped as append() does.
function h(tag, attrs, ...children) {
  return { tag, attrs: attrs || {}, children: children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false) };
}
const text = (node) => (typeof node === 'object' ? node.children.map(text).join('') : String(node));
const find = (node, predicate) => (typeof node !== 'object' ? []
  : [...(predicate(node) ? [node] : []), ...node.children.flatMap((c) => find(c, predicate))]);
const withClass = (name) => (node) => String(node.attrs.class || '').split(' ').includes(name);

describe('versionChangesView', () => {
  test('no change', () => {
    const view = versionChangesView(planChanges(snapshot(), snapshot()), { h });
    assert.equal(view.tag, 'div');
    assert.equal(view.attrs.class, 'version-changes');
    assert.equal(text(view), 'No change to tasks');
  });

  test('a renamed task, with old and new names in del and ins', () => {
    const later = snapshot();
    taskOf(later, 2).name = 'Add data models';
    const view = versionChangesView(planChanges(snapshot(), later), { h });
    assert.match(text(view), /Changed tasks/);
    assert.match(text(view), /#2 Add data models/);
    const [field] = find(view, withClass('change-field'));
    assert.ok(field, 'a .change-field item');
    assert.match(text(field), /^name: .*Add models.*→.*Add data models$/);
    assert.match(text(find(field, (n) => n.tag === 'del')[0]), /Add models$/);
    assert.match(text(find(field, (n) => n.tag === 'ins')[0]), /Add data models$/);
  });

  test('list items and unrecorded notes', () => {
    const older = snapshot();
    delete older.acceptance_tests;
    const later = snapshot();
    taskOf(later, 4).depends_on = [3, 1];
    const view = versionChangesView(planChanges(older, later), { h, beforeLabel: 'v3', afterLabel: 'v4' });
    assert.deepEqual(find(view, withClass('change-added')).map(text), ['+ added: #1']);
    assert.deepEqual(find(view, withClass('change-removed')).map(text), ['− removed: #2']);
    assert.match(text(view), /v3 did not record acceptance tests\./);
  });
});
