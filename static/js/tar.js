// Reads a .tar.gz in the browser: gunzip with DecompressionStream, then the tar blocks (ustar,
// pax extended headers as `git archive` writes them, GNU long names).

/** Gunzips a Blob or ArrayBuffer into bytes. */
export async function gunzip(data) {
  const blob = data instanceof Blob ? data : new Blob([data]);
  if (typeof DecompressionStream === 'undefined') throw new Error('This browser cannot unpack gzip archives (no DecompressionStream).');
  const stream = blob.stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const decoder = new TextDecoder();

function text(bytes, start, length) {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end += 1;
  return decoder.decode(bytes.subarray(start, end));
}

function octal(bytes, start, length) {
  if (bytes[start] & 0x80) { // GNU base-256 for large sizes
    let value = 0;
    for (let i = start + 1; i < start + length; i += 1) value = value * 256 + bytes[i];
    return value;
  }
  const digits = text(bytes, start, length).trim();
  return digits ? parseInt(digits, 8) : 0;
}

/** pax records: "LEN key=value\n" repeated. */
function paxRecords(bytes) {
  const records = {};
  let offset = 0;
  while (offset < bytes.length) {
    let space = offset;
    while (space < bytes.length && bytes[space] !== 0x20) space += 1;
    const length = parseInt(decoder.decode(bytes.subarray(offset, space)), 10);
    if (!length) break;
    const record = decoder.decode(bytes.subarray(space + 1, offset + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}

/**
 * The entries of an uncompressed tar: `{files: [{path, size, mode, mtime, type, data}], comment}`
 * where `type` is "file", "directory" or "symlink" and `comment` is the pax global comment (the
 * commit id for `git archive`).
 */
export function readTar(bytes) {
  const files = [];
  let offset = 0;
  let pax = {};
  let globalPax = {};
  let longName = null;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const flag = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + 512;
    const data = bytes.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (flag === 'x') { pax = paxRecords(data); continue; }
    if (flag === 'g') { globalPax = { ...globalPax, ...paxRecords(data) }; continue; }
    if (flag === 'L') { longName = text(data, 0, data.length); continue; }
    let name = text(header, 0, 100);
    const magic = text(header, 257, 6);
    if (magic.startsWith('ustar')) {
      const prefix = text(header, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName) name = longName;
    if (pax.path) name = pax.path;
    const type = flag === '5' ? 'directory' : flag === '2' ? 'symlink' : (flag === '0' || flag === '\0' || flag === '7') ? 'file' : 'other';
    files.push({
      path: name.replace(/\/$/, ''),
      size: pax.size ? Number(pax.size) : size,
      mode: octal(header, 100, 8),
      mtime: octal(header, 136, 12),
      type,
      link: type === 'symlink' ? (pax.linkpath || text(header, 157, 100)) : null,
      data: type === 'file' ? data : null,
    });
    pax = {};
    longName = null;
  }
  return { files, comment: globalPax.comment || null };
}

/** True when the bytes look like text (valid UTF-8, no NUL in the first 8 KiB). */
export function isText(bytes) {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.length < bytes.length ? sample.subarray(0, Math.max(0, sample.length - 4)) : sample);
    return true;
  } catch {
    return false;
  }
}

export function decodeText(bytes) {
  return new TextDecoder().decode(bytes);
}
