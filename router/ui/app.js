// hookchain dashboard: plain JavaScript, no build step, no third-party code.
// Everything that came from a webhook is put on the page as text (textContent), never as HTML.
"use strict";

const TOKEN_KEY = "hookchain.adminToken";
const REFRESH_MS = 2000;
const state = { events: [], cursor: null, selected: null, chainJSON: "", deadLetters: [], timer: null };

// ---------- small DOM helper ----------
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
const $ = (id) => document.getElementById(id);
const badge = (status) => h("span", { class: `badge s-${status || "unknown"}`, "data-status": status }, status || "?");
const short = (id) => (id && id.length > 12 ? id.slice(0, 8) + "…" : id || "");
const ms = (value) => (value === null || value === undefined ? "–" : value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`);
const clock = (epoch) => (epoch ? new Date(epoch * 1000).toLocaleTimeString() : "–");
const prettyBody = (text) => { try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; } };
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

// ---------- API ----------
class Unauthorized extends Error {}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Unauthorized("no token");
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  if (response.status === 401 || response.status === 403) {
    throw new Unauthorized((body && body.error) || `HTTP ${response.status}`);
  }
  if (!response.ok) throw new Error((body && body.error) || `HTTP ${response.status}`);
  return body;
}

function askForToken(message) {
  const dialog = $("login");
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  if (!dialog.open) dialog.showModal();
  $("token").focus();
}

function toast(text, bad) {
  const node = $("toast");
  node.textContent = text;
  node.className = bad ? "toast bad" : "toast";
  node.hidden = false;
  clearTimeout(node.timer);
  node.timer = setTimeout(() => { node.hidden = true; }, 4000);
}

async function guarded(work) {
  try {
    await work();
    $("live").classList.remove("down");
  } catch (error) {
    if (error instanceof Unauthorized) {
      stopRefresh();
      askForToken(error.message === "no token" ? "" : error.message);
    } else {
      $("live").classList.add("down");
      toast(error.message, true);
    }
  }
}

// ---------- header: queues, workers, failures ----------
async function loadStatus() {
  const status = await api("/api/status");
  const q = status.queues;
  const events = q["hookchain-events"] || {};
  const actions = q["hookchain-actions"] || {};
  $("queue-depth").textContent = `queues ${events.queued ?? 0} / ${actions.queued ?? 0}` +
    ((actions.scheduled || 0) ? ` (+${actions.scheduled} retries)` : "");
  $("worker-count").textContent = `workers ${status.workers.length}`;
  $("worker-count").className = status.workers.length ? "" : "warn";
  $("failure-count").textContent = status.dead_letters ? String(status.dead_letters) : "";
}

// ---------- events list ----------
function filterQuery() {
  const form = new FormData($("filters"));
  const query = new URLSearchParams();
  for (const [key, value] of form.entries()) if (value) query.set(key, value);
  return query;
}

async function loadEvents() {
  const query = filterQuery();
  query.set("limit", "50");
  const page = await api(`/api/events?${query}`);
  state.events = page.events;
  state.cursor = page.next_cursor;
  renderEvents();
}

async function loadOlder() {
  const query = filterQuery();
  query.set("limit", "50");
  query.set("cursor", state.cursor);
  const page = await api(`/api/events?${query}`);
  state.events = state.events.concat(page.events);
  state.cursor = page.next_cursor;
  renderEvents();
}

function renderEvents() {
  const list = $("event-list");
  list.replaceChildren(...state.events.map((event) => h("li", {
      class: `event-row${event.id === state.selected ? " selected" : ""}`,
      "data-testid": "event-row",
      "data-id": event.id,
      "data-type": event.type,
      onclick: () => { location.hash = `#/events/${encodeURIComponent(event.id)}`; },
    },
    h("span", { class: "time" }, clock(event.received_at)),
    badge(event.status),
    h("span", { class: "type" }, event.type),
    event.replay_of ? h("span", { class: "tag" }, "replay") : null,
    h("span", { class: "muted" }, event.source),
    h("span", { class: "subject" }, event.subject || ""),
  )));
  if (!state.events.length) list.append(h("li", { class: "hint" }, "No events yet. Send a webhook: hookchain send github"));
  $("more").hidden = !state.cursor;
}

// ---------- chain view ----------
async function loadChain(force) {
  if (!state.selected) return;
  const detail = await api(`/api/events/${encodeURIComponent(state.selected)}`);
  const json = JSON.stringify(detail);
  if (!force && json === state.chainJSON) return;
  state.chainJSON = json;
  if (detail.actions.some((a) => a.status === "failed") || hasFailure(detail.chain.roots)) await loadDeadLetters();
  renderChain(detail);
}

function hasFailure(nodes) {
  return nodes.some((n) => n.status === "failed" || n.actions.some((a) => hasFailure(a.children)) || hasFailure(n.children));
}

function renderChain(detail) {
  const pane = $("detail");
  const chain = detail.chain;
  pane.replaceChildren(...[
    h("div", { class: "chain-head" },
      h("h2", {}, `${detail.type}`, " ", badge(detail.status)),
      h("div", { class: "muted" },
        `chain ${chain.correlation_id} · ${chain.size} event${chain.size === 1 ? "" : "s"}`,
        detail.subject ? ` · ${detail.subject}` : ""),
      h("div", { class: "muted" }, "in a terminal: ", h("code", {}, `hookchain trace ${detail.id}`)),
    ),
    h("ul", { class: "tree", "data-testid": "chain-tree" }, chain.roots.map((node) => eventNode(node, detail.id))),
    detail.related.length ? h("div", { class: "related" },
      h("h3", {}, "Same subject, other chains"),
      h("ul", {}, detail.related.map((e) => h("li", {},
        h("a", { href: `#/events/${encodeURIComponent(e.id)}` }, `${e.type}`), " ", badge(e.status), " ",
        h("span", { class: "muted" }, `${e.source} · ${clock(e.received_at)}`)))),
    ) : null,
    h("details", { class: "envelope" }, h("summary", {}, "envelope of the selected event"),
      h("pre", {}, pretty(detail.event))),
  ].filter(Boolean));
}

function eventNode(node, focus) {
  const card = h("div", {
      class: `card event s-${node.status}${node.id === focus ? " focus" : ""}`,
      "data-testid": "event-node",
      "data-id": node.id,
      "data-type": node.type,
      "data-status": node.status,
    },
    h("div", { class: "card-head" },
      h("span", { class: "kind" }, node.depth === 0 && !node.replay_of ? "webhook" : node.replay_of ? "replay" : "event"),
      h("a", { class: "type", href: `#/events/${encodeURIComponent(node.id)}` }, node.type),
      badge(node.status),
      h("span", { class: "muted" }, node.source),
      h("span", { class: "offset", title: "since the chain's first event" }, `+${ms(node.offset_ms)}`),
      h("span", { class: "spacer" }),
      h("button", { type: "button", class: "small", "data-testid": "replay", onclick: () => replay(node.id) }, "Replay"),
    ),
    h("div", { class: "muted ids" }, `id ${node.id}`),
    rulesLine(node),
  );
  const children = [...node.actions.map((a) => actionNode(a, node, focus)), ...node.children.map((c) => eventNode(c, focus))];
  return h("li", {}, card, children.length ? h("ul", {}, children) : null);
}

function rulesLine(node) {
  if (!node.matches.length) {
    return h("div", { class: "rules muted" }, node.status === "pending" ? "waiting for a worker…" : "no rule listens to this type");
  }
  return h("div", { class: "rules" }, node.matches.map((m) => m.matched
    ? h("span", { class: "chip ok", "data-testid": "rule-matched" }, `✓ ${m.rule}`)
    : h("span", { class: "chip no", title: m.reason || "", "data-testid": "rule-unmatched" }, `✗ ${m.rule}: ${m.reason || ""}`)));
}

function actionNode(action, event, focus) {
  const attempts = action.attempts || [];
  const last = attempts[attempts.length - 1] || {};
  const total = attempts.reduce((sum, a) => sum + (a.duration_ms || 0), 0);
  const request = last.request || {};
  const answer = last.error || (last.status ? `HTTP ${last.status}` : "…");
  const letter = action.status === "failed" ? deadLetterFor(event.id, action) : null;
  const card = h("div", {
      class: `card action s-${action.status}`,
      "data-testid": "action-node",
      "data-rule": action.rule,
      "data-status": action.status,
    },
    h("div", { class: "card-head" },
      h("span", { class: "kind" }, "call"),
      h("button", { type: "button", class: "link call", "data-testid": "open-call", onclick: () => openCall(action) },
        `${action.rule} / ${action.action}`),
      badge(action.status),
      h("span", { class: "muted" }, `${request.method || ""} ${request.url || ""}`),
      h("span", { class: "spacer" }),
      h("span", { class: `answer${last.error ? " bad" : ""}` }, `→ ${answer}`),
      h("span", { class: "offset", title: "time spent in calls, every attempt" }, ms(total)),
      h("span", { class: "muted" }, `${attempts.length} attempt${attempts.length === 1 ? "" : "s"}`),
      letter ? h("button", { type: "button", class: "small", "data-testid": "retry", onclick: () => retry(letter.id) }, "Retry") : null,
    ),
  );
  return h("li", {}, card, action.children.length ? h("ul", {}, action.children.map((c) => eventNode(c, focus))) : null);
}

function deadLetterFor(eventId, action) {
  return state.deadLetters.find((d) => d.event_id === eventId && d.rule === action.rule && String(d.action) === String(action.action));
}

function openCall(action) {
  $("call-title").textContent = `${action.rule} / ${action.action} — ${action.status}`;
  const body = (action.attempts || []).map((attempt) => h("section", { class: "attempt" },
    h("h4", {}, `attempt ${attempt.number} · ${attempt.started_at} · ${ms(attempt.duration_ms)}`,
      attempt.error ? h("span", { class: "bad" }, ` · ${attempt.error}`) : ""),
    h("div", { class: "two" },
      h("div", {}, h("h5", {}, "request (secrets masked)"),
        h("pre", { "data-testid": "call-request" }, `${attempt.request.method} ${attempt.request.url}\n` +
          Object.entries(attempt.request.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n") +
          (attempt.request.body ? "\n\n" + prettyBody(attempt.request.body) : ""))),
      h("div", {}, h("h5", {}, "response"),
        h("pre", { "data-testid": "call-response" }, attempt.status === null ? "(no response)" :
          `HTTP ${attempt.status}\n` + Object.entries(attempt.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n") +
          "\n\n" + (attempt.json !== null && attempt.json !== undefined ? pretty(attempt.json) : attempt.text || ""))),
    ),
  ));
  if (action.outcome && action.outcome.request === null) body.push(h("p", { class: "bad" }, action.outcome.error || ""));
  $("call-body").replaceChildren(...body);
  $("call-dialog").showModal();
}

// ---------- actions ----------
async function replay(eventId) {
  await guarded(async () => {
    const answer = await api(`/api/events/${encodeURIComponent(eventId)}/replay`, { method: "POST" });
    toast(`replayed as ${short(answer.id)}`);
    location.hash = `#/events/${encodeURIComponent(answer.id)}`;
    await loadEvents();
  });
}

async function retry(letterId) {
  await guarded(async () => {
    const answer = await api(`/api/dead-letters/${encodeURIComponent(letterId)}/retry`, { method: "POST" });
    toast(`${answer.rule} / ${answer.action} queued again`);
    await loadDeadLetters();
    await refresh(true);
  });
}

// ---------- failures and rules ----------
async function loadDeadLetters() {
  state.deadLetters = (await api("/api/dead-letters?limit=200")).dead_letters;
}

function renderFailures() {
  const rows = state.deadLetters.map((d) => h("tr", { "data-testid": "failure-row" },
    h("td", {}, d.time),
    h("td", {}, `${d.rule} / ${d.action}`),
    h("td", { class: "bad" }, d.error || ""),
    h("td", {}, h("a", { href: `#/events/${encodeURIComponent(d.event_id)}` }, short(d.event_id))),
    h("td", {},
      h("button", { type: "button", class: "small", "data-testid": "retry", onclick: () => retry(d.id) }, "Retry"), " ",
      h("button", { type: "button", class: "small", "data-testid": "replay", onclick: () => replay(d.event_id) }, "Replay")),
  ));
  $("failure-rows").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5, class: "hint" }, "No failures."))]));
}

async function loadRules() {
  const { rules } = await api("/api/rules");
  $("rule-rows").replaceChildren(...rules.map((r) => h("tr", { "data-testid": "rule-row", "data-rule": r.name },
    h("td", {}, h("b", {}, r.name), r.loaded ? "" : h("span", { class: "tag" }, "not loaded"),
      r.description ? h("div", { class: "muted" }, r.description) : null),
    h("td", {}, (r.on || []).join(", ")),
    h("td", {}, (r.actions || []).map((a) => h("div", { class: "muted" }, `${a.name}: ${a.method} ${a.url}`))),
    h("td", {}, r.last_fired
      ? [h("div", {}, r.last_fired.time, " ", badge(r.last_fired.error ? "failed" : "succeeded")),
         h("a", { href: `#/events/${encodeURIComponent(r.last_fired.event_id)}` }, `event ${short(r.last_fired.event_id)}`)]
      : h("span", { class: "muted" }, "never")),
  )));
}

// ---------- routing and refresh ----------
function route() {
  const hash = location.hash || "#/";
  const tab = hash.startsWith("#/failures") ? "failures" : hash.startsWith("#/rules") ? "rules" : "events";
  for (const name of ["events", "failures", "rules"]) $(`view-${name}`).hidden = name !== tab;
  for (const link of document.querySelectorAll(".tabs a")) link.classList.toggle("active", link.dataset.tab === tab);
  const match = hash.match(/^#\/events\/(.+)$/);
  const selected = match ? decodeURIComponent(match[1]) : null;
  if (selected !== state.selected) {
    state.selected = selected;
    state.chainJSON = "";
  }
  return refresh(true);
}

async function refresh(force) {
  await guarded(async () => {
    const tab = location.hash.startsWith("#/failures") ? "failures" : location.hash.startsWith("#/rules") ? "rules" : "events";
    const work = [loadStatus()];
    if (tab === "events") work.push(loadEvents(), loadChain(force));
    if (tab === "failures") work.push(loadDeadLetters().then(renderFailures));
    if (tab === "rules") work.push(loadRules());
    await Promise.all(work);
  });
}

function startRefresh() {
  stopRefresh();
  state.timer = setInterval(() => refresh(false), REFRESH_MS);
}
function stopRefresh() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    $("login").close();
    route().then(startRefresh);
  });
  $("login").addEventListener("cancel", (event) => event.preventDefault());
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stopRefresh();
    askForToken("");
  });
  $("filters").addEventListener("input", () => guarded(loadEvents));
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("more").addEventListener("click", () => guarded(loadOlder));
  window.addEventListener("hashchange", route);
  if (!sessionStorage.getItem(TOKEN_KEY)) askForToken("");
  else route().then(startRefresh);
});
