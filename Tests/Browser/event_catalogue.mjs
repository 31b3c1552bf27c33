// The UI's event catalogue (static/js/events.js) as node sees it, for EventCatalogueTests: prints
// {"types": EVENT_TYPES, "descriptions": [describeEvent(e) for each event of FILE]} as JSON.
//
// Usage: node event_catalogue.mjs DIR FILE, where DIR holds copies of static/js/{events,api,dom}.js
// and a package.json saying {"type": "module"}, and FILE a JSON array of events as the SSE stream
// sends them ({"id", "plan_id", "type", "created_at", "data"}).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [folder, file] = process.argv.slice(2);
if (!folder || !file) {
  console.error('usage: node event_catalogue.mjs DIR FILE');
  process.exit(2);
}
// api.js reads the session from sessionStorage when it is used, never on import; a stand-in keeps
// an accidental use from throwing.
globalThis.sessionStorage = { getItem: () => null, setItem: () => {}, removeItem: () => {} };
const { EVENT_TYPES, describeEvent } = await import(pathToFileURL(path.join(folder, 'events.js')).href);
const events = JSON.parse(readFileSync(file, 'utf8'));
console.log(JSON.stringify({ types: EVENT_TYPES, descriptions: events.map(describeEvent) }));
