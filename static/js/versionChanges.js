// What changed between two versions of a plan, task by task: compares two version snapshots (the
// plan-answer JSON stored per version) and renders the result as lists that read well on a phone.
//
// Older snapshots may lack fields (no acceptance_tests, no tech_stack.other, a null description). A
// field absent from either version is "not recorded": it never shows up as a change, only in
// `unrecorded`, so the page can say "v3 did not record acceptance tests" instead of "every test
// was removed". Null framework and database are the exception: the plan form writes null for
// "none", so there null is a value like any other.

import { diffLines, diffStats, lines } from './diff.js';

const TECH_STACK_FIELDS = ['language', 'framework', 'database', 'test_command', 'other'];
const NULL_MEANS_NONE = new Set(['tech_stack.framework', 'tech_stack.database']);

// Comparison --------------------------------------------------------------------------------------

function isRecorded(value, field) {
  return value !== undefined && (value !== null || NULL_MEANS_NONE.has(field));
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function same(a, b) {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Numbers in numeric order, anything else after them in text order. */
function byNumber(a, b) {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return String(a).localeCompare(String(b), 'en', { numeric: true });
}

/** The items of `from` left over after matching each against one equal item (same key) of `other`. */
function unmatched(from, other, keyOf) {
  const counts = new Map();
  for (const item of other) counts.set(keyOf(item), (counts.get(keyOf(item)) || 0) + 1);
  return from.filter((item) => {
    const left = counts.get(keyOf(item)) || 0;
    if (left) counts.set(keyOf(item), left - 1);
    return !left;
  });
}

const plainKey = (item) => (typeof item === 'object' ? JSON.stringify(item) : String(item));
const subtaskKey = (s) => `${s?.number}\u0000${s?.name ?? ''}`;
const criterionKey = (c) => `${String(c?.priority ?? '').toLowerCase()}\u0000${c?.criterion ?? ''}`;

/**
 * Collects field changes and what either version did not record. `path` names the field in
 * `unrecorded` (generic, e.g. "tasks.complexity", so a hundred old tasks give one entry).
 * `always`: note a field even when neither version recorded it (plan-level fields); nested fields
 * are only noted when one version has them and the other does not.
 */
class Comparison {
  constructor() {
    this.missing = { before: new Set(), after: new Set() };
  }

  /** Whether both values are recorded; notes the side(s) that lack it otherwise. */
  both(path, a, b, { always = false, check = isRecorded } = {}) {
    const hasA = check(a, path);
    const hasB = check(b, path);
    if (hasA && hasB) return true;
    if (always || hasA !== hasB) {
      if (!hasA) this.missing.before.add(path);
      if (!hasB) this.missing.after.add(path);
    }
    return false;
  }

  scalar(out, field, a, b, path = field, options = {}) {
    if (this.both(path, a, b, options) && !same(a, b)) out.push({ field, before: a, after: b });
  }

  list(out, field, a, b, keyOf = plainKey, path = field, options = {}) {
    if (!this.both(path, a, b, { ...options, check: Array.isArray })) return;
    const added = unmatched(b, a, keyOf);
    const removed = unmatched(a, b, keyOf);
    if (added.length || removed.length) out.push({ field, added, removed });
  }
}

/** Every task of a snapshot by number, with where it sits ("phase.milestone"). */
function tasksOf(snapshot) {
  const tasks = new Map();
  for (const phase of snapshot.phases || []) {
    for (const milestone of phase?.milestones || []) {
      for (const task of milestone?.tasks || []) {
        if (task && task.number !== undefined && task.number !== null) {
          tasks.set(String(task.number), { task, milestone: `${phase.number}.${milestone.number}` });
        }
      }
    }
  }
  return tasks;
}

function compareTask(cmp, a, b) {
  const fields = [];
  for (const field of ['name', 'description', 'complexity']) cmp.scalar(fields, field, a.task[field], b.task[field], `tasks.${field}`);
  if (a.milestone !== b.milestone) fields.push({ field: 'milestone', before: a.milestone, after: b.milestone });
  cmp.list(fields, 'depends_on', a.task.depends_on, b.task.depends_on, plainKey, 'tasks.depends_on');
  cmp.list(fields, 'files', a.task.files, b.task.files, plainKey, 'tasks.files');
  cmp.list(fields, 'subtasks', a.task.subtasks, b.task.subtasks, subtaskKey, 'tasks.subtasks');
  if (Array.isArray(a.task.subtasks) && Array.isArray(b.task.subtasks)) {
    // A subtask kept (same number and name) may still have a new description.
    const earlier = new Map(a.task.subtasks.map((s) => [subtaskKey(s), s]));
    for (const s of b.task.subtasks) {
      const old = earlier.get(subtaskKey(s));
      if (old) cmp.scalar(fields, `subtasks.${s.number}.description`, old.description, s.description, 'subtasks.description');
    }
  }
  cmp.list(fields, 'acceptance', a.task.acceptance, b.task.acceptance, criterionKey, 'tasks.acceptance');
  return fields;
}

function compareTasks(cmp, before, after) {
  const result = { added: [], removed: [], changed: [] };
  const earlier = tasksOf(before);
  const later = tasksOf(after);
  const numbers = [...new Set([...earlier.keys(), ...later.keys()])].sort(byNumber);
  for (const number of numbers) {
    const a = earlier.get(number);
    const b = later.get(number);
    if (!a) result.added.push(b.task);
    else if (!b) result.removed.push(a.task);
    else {
      const fields = compareTask(cmp, a, b);
      if (fields.length) result.changed.push({ number: b.task.number, name: b.task.name ?? a.task.name, fields });
    }
  }
  return result;
}

function byNumberMap(items) {
  return new Map((Array.isArray(items) ? items : []).filter(Boolean).map((item) => [String(item.number), item]));
}

/** Phases and milestones added, removed or renamed, in plan order; milestones of an added or removed phase go with it. */
function comparePhases(cmp, before, after) {
  const result = [];
  const earlier = byNumberMap(before.phases);
  const later = byNumberMap(after.phases);
  for (const number of [...new Set([...earlier.keys(), ...later.keys()])].sort(byNumber)) {
    const a = earlier.get(number);
    const b = later.get(number);
    if (!a || !b) {
      const phase = a || b;
      result.push({ level: 'phase', number: phase.number, name: phase.name, change: a ? 'removed' : 'added' });
      continue;
    }
    const fields = [];
    for (const field of ['name', 'description', 'kind']) cmp.scalar(fields, field, a[field], b[field], `phases.${field}`);
    if (fields.length) result.push({ level: 'phase', number: b.number, name: b.name ?? a.name, change: 'changed', fields });

    const earlierMilestones = byNumberMap(a.milestones);
    const laterMilestones = byNumberMap(b.milestones);
    for (const m of [...new Set([...earlierMilestones.keys(), ...laterMilestones.keys()])].sort(byNumber)) {
      const ma = earlierMilestones.get(m);
      const mb = laterMilestones.get(m);
      const label = `${b.number}.${m}`;
      if (!ma || !mb) {
        result.push({ level: 'milestone', number: label, name: (ma || mb).name, change: ma ? 'removed' : 'added' });
        continue;
      }
      const milestoneFields = [];
      for (const field of ['name', 'description']) cmp.scalar(milestoneFields, field, ma[field], mb[field], `milestones.${field}`);
      if (milestoneFields.length) result.push({ level: 'milestone', number: label, name: mb.name ?? ma.name, change: 'changed', fields: milestoneFields });
    }
  }
  return result;
}

function compareTests(cmp, before, after) {
  const result = { added: [], removed: [], changed: [] };
  if (!cmp.both('acceptance_tests', before.acceptance_tests, after.acceptance_tests, { always: true, check: Array.isArray })) return result;
  const named = (tests) => new Map(tests.filter(Boolean).map((t) => [String(t.name), t]));
  const earlier = named(before.acceptance_tests);
  const later = named(after.acceptance_tests);
  for (const [name, a] of earlier) if (!later.has(name)) result.removed.push(a);
  for (const [name, b] of later) {
    const a = earlier.get(name);
    if (!a) {
      result.added.push(b);
      continue;
    }
    const fields = [];
    cmp.scalar(fields, 'priority', a.priority, b.priority, 'acceptance_tests.priority');
    cmp.scalar(fields, 'file', a.file, b.file, 'acceptance_tests.file');
    cmp.list(fields, 'covers', a.covers, b.covers, plainKey, 'acceptance_tests.covers');
    if (cmp.both('acceptance_tests.code', a.code, b.code) && a.code !== b.code) {
      const { added, removed } = diffStats(diffLines(lines(a.code), lines(b.code)));
      fields.push({ field: 'code', before: a.code, after: b.code, linesAdded: added, linesRemoved: removed });
    }
    if (fields.length) result.changed.push({ name: b.name, fields });
  }
  return result;
}

function comparePlanFields(cmp, before, after) {
  const fields = [];
  for (const field of ['project_name', 'summary']) cmp.scalar(fields, field, before[field], after[field], field, { always: true });
  const a = before.tech_stack;
  const b = after.tech_stack;
  if (!cmp.both('tech_stack', a, b, { always: true, check: isObject })) return fields;
  const keys = new Set([...TECH_STACK_FIELDS, ...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const field = `tech_stack.${key}`;
    const always = TECH_STACK_FIELDS.includes(key);
    if (key === 'other' || Array.isArray(a[key]) || Array.isArray(b[key])) cmp.list(fields, field, a[key], b[key], plainKey, field, { always });
    else cmp.scalar(fields, field, a[key], b[key], field, { always });
  }
  return fields;
}

/**
 * The changes from snapshot `before` to snapshot `after`:
 * `{plan, phases, tasks: {added, removed, changed}, tests: {added, removed, changed}, unrecorded, unrecordedIn}`.
 * A field change is `{field, before, after}` (scalars) or `{field, added, removed}` (lists). Tasks are
 * matched by number, tests by name, phases and milestones by number. `unrecorded` names the fields
 * either version lacks (never reported as changes); `unrecordedIn.before` / `.after` says which one.
 */
export function planChanges(before, after) {
  const a = isObject(before) ? before : {};
  const b = isObject(after) ? after : {};
  const cmp = new Comparison();
  const plan = comparePlanFields(cmp, a, b);
  let phases = [];
  let tasks = { added: [], removed: [], changed: [] };
  if (cmp.both('phases', a.phases, b.phases, { always: true, check: Array.isArray })) {
    phases = comparePhases(cmp, a, b);
    tasks = compareTasks(cmp, a, b);
  }
  const tests = compareTests(cmp, a, b);
  const unrecordedIn = { before: [...cmp.missing.before], after: [...cmp.missing.after] };
  const unrecorded = [...new Set([...unrecordedIn.before, ...unrecordedIn.after])];
  return { plan, phases, tasks, tests, unrecorded, unrecordedIn };
}

function fieldCount(fields) {
  return (fields || []).reduce((n, f) => n + (Array.isArray(f.added) ? f.added.length + f.removed.length : 1), 0);
}

function groupCount(group) {
  if (!group) return 0;
  return (group.added?.length || 0) + (group.removed?.length || 0) + (group.changed || []).reduce((n, c) => n + fieldCount(c.fields), 0);
}

/**
 * How many individual changes `changes` holds: one per changed scalar field, per list item added
 * or removed, per task, test, phase or milestone added or removed. Unrecorded fields do not count.
 */
export function changeCount(changes) {
  if (!changes) return 0;
  const phases = (changes.phases || []).reduce((n, p) => n + (p.change === 'changed' ? fieldCount(p.fields) : 1), 0);
  return fieldCount(changes.plan) + phases + groupCount(changes.tasks) + groupCount(changes.tests);
}

// View --------------------------------------------------------------------------------------------

const LABELS = {
  project_name: 'project name',
  depends_on: 'depends on',
  acceptance: 'acceptance criteria',
  acceptance_tests: 'acceptance tests',
  covers: 'covers tasks',
  'tech_stack.test_command': 'test command',
  'tech_stack.other': 'other libraries and tools',
};

/** "tech_stack.test_command" → "test command", "subtasks.2.description" → "subtask 2 description". */
export function fieldLabel(field) {
  if (LABELS[field]) return LABELS[field];
  const subtask = /^subtasks\.([^.]+)\.(.+)$/.exec(field);
  if (subtask) return `subtask ${subtask[1]} ${subtask[2]}`;
  return String(field).replace(/^tech_stack\./, 'tech stack ').replaceAll('.', ' ').replaceAll('_', ' ');
}

function itemText(field, item) {
  if (field === 'depends_on' || field === 'covers') return `#${item}`;
  if (field === 'subtasks') return `${item?.number}. ${item?.name ?? ''}`;
  if (field === 'acceptance') return `${String(item?.priority ?? '').toUpperCase()}: ${item?.criterion ?? ''}`;
  return typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item);
}

function valueText(value) {
  if (value === null || value === undefined) return 'none';
  if (value === '') return '(empty)';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function taskTitle(task) {
  return `#${task.number} ${task.name ?? ''}`.trim();
}

/**
 * The changes as a `.version-changes` block: plan fields, phases, added / removed / changed tasks
 * and tests, and what a version did not record. `h` is dom.js's element helper; the labels name the
 * two versions ("v3") in the "… did not record …" notes.
 */
export function versionChangesView(changes, { h, beforeLabel = 'The earlier version', afterLabel = 'The later version' }) {
  const added = (text) => h('li', { class: 'change-added' }, h('span', { 'aria-hidden': 'true' }, '+ '), h('span', { class: 'sr-only' }, 'added: '), text);
  const removed = (text) => h('li', { class: 'change-removed' }, h('span', { 'aria-hidden': 'true' }, '− '), h('span', { class: 'sr-only' }, 'removed: '), text);

  const fieldItem = (f) => {
    const name = h('span', { class: 'change-name' }, `${fieldLabel(f.field)}: `);
    if (Array.isArray(f.added)) {
      return h('li', { class: 'change-field' }, name,
        h('ul', null, f.added.map((item) => added(itemText(f.field, item))), f.removed.map((item) => removed(itemText(f.field, item)))));
    }
    if (f.field === 'code') {
      const counts = f.linesAdded === undefined ? '' : ` (+${f.linesAdded} / −${f.linesRemoved} lines)`;
      return h('li', { class: 'change-field' }, name, `changed${counts}`);
    }
    return h('li', { class: 'change-field' }, name,
      h('del', null, h('span', { class: 'sr-only' }, 'was '), valueText(f.before)), ' → ',
      h('ins', null, h('span', { class: 'sr-only' }, 'now '), valueText(f.after)));
  };
  const fieldList = (fields) => h('ul', null, fields.map(fieldItem));
  const section = (title, ...body) => h('section', null, h('h4', null, title), ...body);
  const group = (nouns, set, title) => [
    set.added.length ? section(`Added ${nouns}`, h('ul', null, set.added.map((x) => added(title(x))))) : null,
    set.removed.length ? section(`Removed ${nouns}`, h('ul', null, set.removed.map((x) => removed(title(x))))) : null,
    set.changed.length ? section(`Changed ${nouns}`, h('ul', null, set.changed.map((x) => h('li', null, h('strong', null, title(x)), fieldList(x.fields))))) : null,
  ];

  const notes = [[beforeLabel, changes.unrecordedIn?.before], [afterLabel, changes.unrecordedIn?.after]]
    .filter(([, fields]) => fields && fields.length)
    .map(([label, fields]) => h('p', { class: 'muted small' },
      `${label} did not record ${fields.map(fieldLabel).join(', ')}.`));
  if (!changeCount(changes)) return h('div', { class: 'version-changes' }, h('p', { class: 'empty' }, 'No change to tasks'), notes);

  const phaseTitle = (p) => `${p.level === 'phase' ? 'Phase' : 'Milestone'} ${p.number} ${p.name ?? ''}`.trim();
  const phases = changes.phases.map((p) => (p.change === 'added' ? added(phaseTitle(p))
    : p.change === 'removed' ? removed(phaseTitle(p))
      : h('li', null, h('strong', null, phaseTitle(p)), fieldList(p.fields))));
  return h('div', { class: 'version-changes' },
    changes.plan.length ? section('Plan', fieldList(changes.plan)) : null,
    phases.length ? section('Phases and milestones', h('ul', null, phases)) : null,
    groupCount(changes.tasks) ? group('tasks', changes.tasks, taskTitle) : h('p', { class: 'empty' }, 'No change to tasks'),
    group('acceptance tests', changes.tests, (t) => t.name),
    notes);
}
