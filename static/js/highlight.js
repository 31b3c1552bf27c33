// Syntax highlighting for the code a reviewer reads: keywords, strings, comments and numbers of
// Python, JavaScript, Go, JSON and shell. The result is text with a class per piece; the page puts
// each piece in a span as a text node, so nothing in the code is ever read as markup.

const PYTHON = `False None True and as assert async await break class continue def del elif else except finally for
  from global if import in is lambda nonlocal not or pass raise return try while with yield self`;
const JAVASCRIPT = `async await break case catch class const continue debugger default delete do else export extends
  false finally for function if import in instanceof let new null of return static super switch this throw true
  try typeof undefined var void while with yield`;
const GO = `break case chan const continue default defer else fallthrough for func go goto if import interface map
  package range return select struct switch type var nil true false iota`;
const SHELL = `if then else elif fi for while until do done case esac in function return local export set echo exit`;

const LANGUAGES = {
  python: { keywords: PYTHON, line: '#', strings: ['"""', "'''", '"', "'"] },
  javascript: { keywords: JAVASCRIPT, line: '//', block: ['/*', '*/'], strings: ['`', '"', "'"] },
  go: { keywords: GO, line: '//', block: ['/*', '*/'], strings: ['`', '"', "'"] },
  json: { keywords: 'true false null', strings: ['"'] },
  shell: { keywords: SHELL, line: '#', strings: ['"', "'"] },
};
for (const spec of Object.values(LANGUAGES)) spec.words = new Set(spec.keywords.split(/\s+/).filter(Boolean));

const EXTENSIONS = {
  py: 'python', js: 'javascript', mjs: 'javascript', cjs: 'javascript', go: 'go', json: 'json', sh: 'shell', bash: 'shell',
};

/** The language of a file by its name, or null when it has no highlighting here. */
export function languageOf(path) {
  const ext = /\.([A-Za-z0-9]+)$/.exec(String(path || ''))?.[1]?.toLowerCase();
  return (ext && EXTENSIONS[ext]) || null;
}

/**
 * `text` as lines of pieces: each line an array of [className or null, text]. Strings and block
 * comments may span lines; an unterminated one runs to the end of the text, as in an editor.
 */
export function highlightLines(text, language) {
  const spec = LANGUAGES[language];
  const pieces = spec ? tokens(String(text ?? ''), spec) : [[null, String(text ?? '')]];
  const result = [[]];
  for (const [kind, value] of pieces) {
    const parts = value.split('\n');
    parts.forEach((part, i) => {
      if (i > 0) result.push([]);
      if (part) result[result.length - 1].push([kind, part]);
    });
  }
  return result;
}

function tokens(text, spec) {
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push([null, plain]);
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const rest = (n) => text.startsWith(n, i);
    if (spec.line && rest(spec.line)) {
      const end = text.indexOf('\n', i);
      flush();
      out.push(['tok-comment', text.slice(i, end < 0 ? text.length : end)]);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (spec.block && rest(spec.block[0])) {
      const end = text.indexOf(spec.block[1], i + spec.block[0].length);
      const stop = end < 0 ? text.length : end + spec.block[1].length;
      flush();
      out.push(['tok-comment', text.slice(i, stop)]);
      i = stop;
      continue;
    }
    const quote = spec.strings.find((q) => rest(q));
    if (quote) {
      let j = i + quote.length;
      // A one-character quote ends at the line's end unless it is a template or raw string (` in JS and Go).
      const multiline = quote.length === 3 || quote === '`';
      while (j < text.length && !text.startsWith(quote, j)) {
        if (text[j] === '\\' && quote !== '`') j += 1;
        else if (text[j] === '\n' && !multiline) break;
        j += 1;
      }
      const stop = Math.min(text.length, text.startsWith(quote, j) ? j + quote.length : j);
      flush();
      out.push(['tok-string', text.slice(i, stop)]);
      i = stop;
      continue;
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(text.slice(i, i + 64));
    if (word) {
      const previous = i > 0 ? text[i - 1] : '';
      if (spec.words.has(word[0]) && !/[A-Za-z0-9_$.]/.test(previous)) {
        flush();
        out.push(['tok-keyword', word[0]]);
      } else plain += word[0];
      i += word[0].length;
      continue;
    }
    const number = /^\d[\d_]*(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (number && !/[A-Za-z0-9_$]/.test(i > 0 ? text[i - 1] : '')) {
      flush();
      out.push(['tok-number', number[0]]);
      i += number[0].length;
      continue;
    }
    plain += text[i];
    i += 1;
  }
  flush();
  return out;
}
