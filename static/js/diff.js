// A line diff (Myers' O(ND) algorithm) and its grouping into hunks with context, for showing how
// an atom's attempt differs from the previous one.

/** Splits text into lines (a trailing newline does not make an extra empty line). */
export function lines(text) {
  if (!text) return [];
  const parts = String(text).split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The edit script turning `a` into `b` (arrays of lines): a list of
 * `{op: ' ' | '-' | '+', text, oldLine, newLine}` (line numbers from 1, null where absent).
 */
export function diffLines(a, b) {
  // Common prefix and suffix first: attempts usually differ in a few places.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const middle = myers(a.slice(start, endA), b.slice(start, endB));
  const ops = [];
  for (let i = 0; i < start; i += 1) ops.push({ op: ' ', text: a[i] });
  ops.push(...middle);
  for (let i = endA; i < a.length; i += 1) ops.push({ op: ' ', text: a[i] });
  let oldLine = 1;
  let newLine = 1;
  for (const entry of ops) {
    entry.oldLine = entry.op === '+' ? null : oldLine++;
    entry.newLine = entry.op === '-' ? null : newLine++;
  }
  return ops;
}

function myers(a, b) {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((text) => ({ op: '+', text }));
  if (m === 0) return a.map((text) => ({ op: '-', text }));
  const max = n + m;
  const offset = max;
  let v = new Int32Array(2 * max + 2);
  const trace = [];
  let found = false;
  for (let d = 0; d <= max && !found; d += 1) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x;
      if (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) x = v[offset + k + 1];
      else x = v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  trace.push(v.slice());
  // Walk back through the saved frontiers.
  const result = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0 && (x > 0 || y > 0); d -= 1) {
    const vPrev = trace[d];
    const k = x - y;
    let prevK;
    if (k === -d || (k !== d && vPrev[offset + k - 1] < vPrev[offset + k + 1])) prevK = k + 1;
    else prevK = k - 1;
    const prevX = vPrev[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      result.push({ op: ' ', text: a[x - 1] });
      x -= 1;
      y -= 1;
    }
    if (d > 0) {
      if (x === prevX) result.push({ op: '+', text: b[y - 1] });
      else result.push({ op: '-', text: a[x - 1] });
    }
    x = prevX;
    y = prevY;
  }
  return result.reverse();
}

/** Counts of added and removed lines. */
export function diffStats(ops) {
  let added = 0;
  let removed = 0;
  for (const o of ops) {
    if (o.op === '+') added += 1;
    else if (o.op === '-') removed += 1;
  }
  return { added, removed };
}

/**
 * Groups an edit script into hunks with `context` unchanged lines around each change:
 * `[{oldStart, newStart, lines: [...ops]}]`. Unchanged text gives no hunks.
 */
export function hunks(ops, context = 3) {
  const result = [];
  let current = null;
  let lastChange = -Infinity;
  ops.forEach((entry, index) => {
    if (entry.op !== ' ') {
      if (!current || index - lastChange > 2 * context) {
        const from = Math.max(0, index - context);
        current = { lines: ops.slice(from, index) };
        result.push(current);
      } else {
        current.lines.push(...ops.slice(lastChange + 1, index));
      }
      current.lines.push(entry);
      lastChange = index;
    }
  });
  // Trailing context.
  for (const hunk of result) {
    const lastEntry = hunk.lines[hunk.lines.length - 1];
    const index = ops.indexOf(lastEntry);
    const next = result[result.indexOf(hunk) + 1];
    const limit = next ? ops.indexOf(next.lines[0]) : ops.length;
    hunk.lines.push(...ops.slice(index + 1, Math.min(index + 1 + context, limit)));
    const first = hunk.lines.find((l) => l.oldLine !== null) || hunk.lines[0];
    hunk.oldStart = first.oldLine ?? 0;
    hunk.newStart = (hunk.lines.find((l) => l.newLine !== null) || hunk.lines[0]).newLine ?? 0;
  }
  return result;
}
