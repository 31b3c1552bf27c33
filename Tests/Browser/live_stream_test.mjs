// LiveStream (static/js/events.js) against a scripted server, in node without a browser: every
// connection opens with a fresh single-use ticket, never the token; a dropped or ended stream is
// reopened by LiveStream itself (never by EventSource's own reconnection, which would reuse the
// spent ticket) with ?last_event_id=; no event is lost or shown twice across reconnects; a 401 for
// a ticket ends the session; other failures retry with growing pauses.
//
// Usage: node live_stream_test.mjs DIR, where DIR holds copies of static/js/{events,api,dom}.js
// and a package.json saying {"type": "module"} (so that any node since 18 loads them as modules).
// Prints "ok N checks" and exits 0, or prints the failed assertion and exits 1.

import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node live_stream_test.mjs DIR');
  process.exit(2);
}

let checks = 0;
const check = (fn) => {
  fn();
  checks += 1;
};

// The browser APIs events.js and api.js use.
const storage = new Map();
globalThis.sessionStorage = {
  getItem: (key) => storage.get(key) ?? null,
  setItem: (key, value) => storage.set(key, String(value)),
  removeItem: (key) => storage.delete(key),
};
const TOKEN = 'header.payload.signature';
const login = () => sessionStorage.setItem('masterplan.session', JSON.stringify({
  token: TOKEN, expiresAt: new Date(Date.now() + 3600_000).toISOString(), user: null,
}));

const delays = [];
const realSetTimeout = setTimeout;
globalThis.setTimeout = (fn, ms) => {
  delays.push(ms);
  return realSetTimeout(fn, 0);
};

const sources = [];
class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  constructor(url) {
    this.url = url;
    this.readyState = FakeEventSource.CONNECTING;
    this.listeners = {};
    sources.push(this);
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  // What the server and the network do:
  serverOpens() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  serverSends(id, type = 'wave_execution_start') {
    const message = { lastEventId: String(id), type, data: JSON.stringify({ id, type, data: { n: id } }) };
    for (const fn of this.listeners[type] || []) fn(message);
  }
  /** The connection dropped or the server ended the stream: a browser would reconnect by itself. */
  dropped() {
    this.readyState = FakeEventSource.CONNECTING;
    this.onerror?.();
  }
}
globalThis.EventSource = FakeEventSource;

// The server: tickets numbered T1, T2, …; the answer for the next ticket requests can be scripted.
const ticketRequests = [];
const ticketAnswers = [];
let issued = 0;
globalThis.fetch = async (url, init = {}) => {
  if (url !== '/api/v1/events/tickets' || init.method !== 'POST') throw new Error(`unexpected request ${init.method} ${url}`);
  ticketRequests.push({ body: JSON.parse(init.body), authorization: init.headers?.Authorization });
  const status = ticketAnswers.shift() ?? 201;
  if (status !== 201) {
    return new Response(JSON.stringify({ type: 'https://masterplan.dev/problems/x', title: 'no', status, detail: 'the token has expired; log in' }),
      { status, headers: { 'Content-Type': 'application/problem+json' } });
  }
  issued += 1;
  return new Response(JSON.stringify({ ticket: `T${issued}`, last_event_id: 7, expires_in: 60 }),
    { status: 201, headers: { 'Content-Type': 'application/json' } });
};

const settle = () => new Promise((resolve) => realSetTimeout(resolve, 20));

const dir = pathToFileURL(path.resolve(folder) + '/').href;
const { LiveStream } = await import(dir + 'events.js');
const { setUnauthorizedHandler } = await import(dir + 'api.js');
const unauthorized = [];
setUnauthorizedHandler((message) => unauthorized.push(message));

// 1. A plan's stream that starts with what happens from now on.
login();
const received = [];
const statuses = [];
let opens = 0;
const stream = new LiveStream('/masterplans/p-1/events', {
  onEvent: (event) => received.push(event.id),
  onStatus: (status) => statuses.push(status),
  onOpen: () => { opens += 1; },
}).start();
await settle();
check(() => assert.equal(ticketRequests.length, 1));
check(() => assert.deepEqual(ticketRequests[0].body, { plan_id: 'p-1' }));
check(() => assert.equal(ticketRequests[0].authorization, `Bearer ${TOKEN}`));
check(() => assert.equal(sources.length, 1));
check(() => assert.equal(sources[0].url, '/api/v1/masterplans/p-1/events?ticket=T1&last_event_id=7'));
check(() => assert.ok(!sources[0].url.includes(TOKEN) && !sources[0].url.includes('access_token')));

sources[0].serverOpens();
sources[0].serverSends(8);
sources[0].serverSends(9, 'review_created');
check(() => assert.deepEqual(received, [8, 9]));
check(() => assert.equal(opens, 1));
check(() => assert.equal(statuses.at(-1), 'live'));

// 2. The connection drops: LiveStream closes the EventSource (so the browser does not reconnect
// with the spent ticket) and connects again with a new ticket, after the last event it saw.
sources[0].dropped();
check(() => assert.equal(sources[0].readyState, FakeEventSource.CLOSED));
check(() => assert.equal(statuses.at(-1), 'reconnecting'));
await settle();
check(() => assert.equal(ticketRequests.length, 2));
check(() => assert.equal(sources.length, 2));
check(() => assert.equal(sources[1].url, '/api/v1/masterplans/p-1/events?ticket=T2&last_event_id=9'));
sources[1].serverOpens();
// The replay may repeat what was seen; it is dropped.
sources[1].serverSends(9, 'review_created');
sources[1].serverSends(10);
sources[1].serverSends(11);
check(() => assert.deepEqual(received, [8, 9, 10, 11]));
check(() => assert.equal(opens, 2));
// A late event from the closed EventSource is ignored too (it is closed; ids only go up anyway).
sources[0].serverSends(10);
check(() => assert.deepEqual(received, [8, 9, 10, 11]));

// 3. The ticket endpoint fails for a while (503): pauses grow, then it resumes after event 11.
ticketAnswers.push(503, 503);
delays.length = 0;
sources[1].dropped();
await settle();
await settle();
await settle();
check(() => assert.deepEqual(delays, [1000, 2000, 4000]));
check(() => assert.equal(sources.length, 3));
check(() => assert.equal(sources[2].url, '/api/v1/masterplans/p-1/events?ticket=T3&last_event_id=11'));
sources[2].serverOpens();
check(() => assert.equal(statuses.at(-1), 'live'));

// 4. The stream ends because the token expired (or the password changed): the next ticket is
// refused with 401, the session ends and the stream stays closed.
ticketAnswers.push(401);
sources[2].dropped();
await settle();
check(() => assert.equal(sources.length, 3));
check(() => assert.equal(statuses.at(-1), 'closed'));
check(() => assert.equal(unauthorized.length, 1));
check(() => assert.equal(sessionStorage.getItem('masterplan.session'), null));

// 5. The user's stream of all plans; closed while its ticket is on the way: nothing is opened.
login();
const allPlans = new LiveStream('/events', { onEvent: () => {}, lastEventId: 0 }).start();
allPlans.close();
await settle();
check(() => assert.deepEqual(ticketRequests.at(-1).body, {}));
check(() => assert.equal(sources.length, 3));

// 6. A stream that replays from the start keeps its own starting point.
const fromStart = new LiveStream('/events', { onEvent: () => {}, lastEventId: 0 }).start();
await settle();
check(() => assert.equal(sources.at(-1).url, `/api/v1/events?ticket=T${issued}&last_event_id=0`));
fromStart.close();
check(() => assert.equal(sources.at(-1).readyState, FakeEventSource.CLOSED));

console.log(`ok ${checks} checks`);
