// The task dependency graph: layers (a task sits one layer after the deepest task it depends on,
// the task-level analogue of the executor's waves) and an inline SVG drawing of it.

import { s } from './dom.js';

/**
 * Layers of tasks: `{layers: [[task, ...], ...], layerOf: Map(number → index), cycle: boolean}`.
 * Dependencies on unknown numbers are ignored; a cycle (which the server refuses) puts the
 * remaining tasks in one last layer rather than looping.
 */
export function layersOf(tasks) {
  const byNumber = new Map(tasks.map((t) => [t.number, t]));
  const layerOf = new Map();
  const visiting = new Set();
  let cycle = false;
  const depth = (task) => {
    if (layerOf.has(task.number)) return layerOf.get(task.number);
    if (visiting.has(task.number)) {
      cycle = true;
      return 0;
    }
    visiting.add(task.number);
    let level = 0;
    for (const n of task.depends_on || []) {
      const dep = byNumber.get(n);
      if (dep) level = Math.max(level, depth(dep) + 1);
    }
    visiting.delete(task.number);
    layerOf.set(task.number, level);
    return level;
  };
  tasks.forEach(depth);
  const layers = [];
  for (const task of tasks) {
    const level = layerOf.get(task.number);
    (layers[level] ||= []).push(task);
  }
  for (const layer of layers) layer?.sort((a, b) => a.number - b.number);
  return { layers: layers.filter(Boolean), layerOf, cycle };
}

/** Tasks that depend on each task: Map(number → [numbers]). */
export function dependents(tasks) {
  const map = new Map(tasks.map((t) => [t.number, []]));
  for (const t of tasks) for (const n of t.depends_on || []) map.get(n)?.push(t.number);
  return map;
}

/**
 * An SVG drawing: one column per layer, left to right, an arrow from each dependency to the task
 * that needs it. Each node is a link (`href(task)`), so the graph is usable from the keyboard.
 */
export function dagSvg(tasks, { href, statusOf = (t) => t.status } = {}) {
  const { layers } = layersOf(tasks);
  const nodeW = 184;
  const nodeH = 44;
  const gapX = 64;
  const gapY = 14;
  const pad = 12;
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const width = pad * 2 + layers.length * nodeW + Math.max(0, layers.length - 1) * gapX;
  const height = pad * 2 + tallest * nodeH + (tallest - 1) * gapY;
  const pos = new Map();
  layers.forEach((layer, col) => {
    const columnHeight = layer.length * nodeH + (layer.length - 1) * gapY;
    const top = pad + (height - pad * 2 - columnHeight) / 2;
    layer.forEach((task, row) => {
      pos.set(task.number, { x: pad + col * (nodeW + gapX), y: top + row * (nodeH + gapY) });
    });
  });

  const svg = s('svg', {
    class: 'dag', viewBox: `0 0 ${width} ${height}`, width, height, role: 'group',
    'aria-label': `Dependency graph of ${tasks.length} tasks in ${layers.length} layers`,
  });
  svg.append(s('defs', null,
    s('marker', { id: 'dag-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'dag-arrowhead' }))));

  const edges = s('g', { class: 'dag-edges', 'aria-hidden': 'true' });
  for (const task of tasks) {
    const to = pos.get(task.number);
    for (const n of task.depends_on || []) {
      const from = pos.get(n);
      if (!from || !to) continue;
      const x1 = from.x + nodeW;
      const y1 = from.y + nodeH / 2;
      const x2 = to.x;
      const y2 = to.y + nodeH / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      edges.append(s('path', {
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2 - 2} ${y2}`,
        class: 'dag-edge', 'marker-end': 'url(#dag-arrow)', 'data-from': n, 'data-to': task.number,
      }));
    }
  }
  svg.append(edges);

  const nodes = s('g', { class: 'dag-nodes' });
  for (const task of tasks) {
    const p = pos.get(task.number);
    const label = `${task.number}. ${task.name}`;
    // About 7.4 px per character at 12.5 px semibold: keep the label inside the box.
    const room = Math.floor((nodeW - 18) / 7.4);
    const shown = label.length > room ? `${label.slice(0, room - 1)}…` : label;
    const deps = (task.depends_on || []).length ? `, depends on ${task.depends_on.join(', ')}` : '';
    const node = s('a', { href: href ? href(task) : null, class: `dag-node status-${statusOf(task) || 'pending'}`, 'aria-label': `Task ${label}${deps}` },
      s('title', null, `${label}${deps}`),
      s('rect', { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 8 }),
      s('text', { x: p.x + 10, y: p.y + 18, class: 'dag-label' }, shown),
      s('text', { x: p.x + 10, y: p.y + 34, class: 'dag-sub' }, `${task.complexity || ''} · ${(statusOf(task) || 'pending').replaceAll('_', ' ')}`));
    nodes.append(node);
  }
  svg.append(nodes);
  return svg;
}
