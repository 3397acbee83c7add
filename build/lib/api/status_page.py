'''The status page served at ``GET /``: one HTML document, inline CSS and vanilla JS.

No build step and nothing from a CDN. The page holds the client's API key in
``sessionStorage`` (asked for with a form) and calls the JSON API with
``Authorization: Bearer``. A key may also arrive in the URL fragment, ``/#key=...``: a
fragment never leaves the browser (it is not sent to the server, nor in a Referer), and
the page moves it into ``sessionStorage`` and drops it from the address bar at once. Keys
never go in a query string. The script's hash is pinned by the page's Content-Security-Policy.
'''

from __future__ import annotations

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#f6f6f3}
header{background:#23395b;color:#fff;padding:.6em 1.2em;display:flex;gap:1em;align-items:baseline}
header h1{font-size:1.2em;margin:0}header small{opacity:.8}
main,#login{padding:1em 1.2em;max-width:70em}
dl{display:grid;grid-template-columns:max-content auto;gap:.3em 1.2em;margin:0}
dt{font-weight:600}dd{margin:0}.na{color:#888}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #ddd;font-variant-numeric:tabular-nums}
tr.failed td:nth-child(2){color:#b00}tr.succeeded td:nth-child(2){color:#070}
section{margin-bottom:1.5em}#message,#login-message{color:#b00}
#picture{max-width:100%;border:1px solid #ccc;background:#fff}
button{cursor:pointer}
"""

SCRIPT = """
"use strict";
const KEY = "routefarm.api_key";
const $ = (id) => document.getElementById(id);
let shown = null;

function takeFragmentKey() {
  const match = /^#key=(.+)$/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
}
const key = () => sessionStorage.getItem(KEY);

function showPrompt(message) {
  $("login").hidden = false;
  $("main").hidden = true;
  $("login-message").textContent = message || "";
}

async function api(path, asBlob) {
  const response = await fetch(path, {headers: {Authorization: "Bearer " + key()}, cache: "no-store"});
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    showPrompt("The API key was rejected; enter another.");
    throw new Error("unauthorized");
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(path + ": " + response.status + " " + detail);
  }
  return asBlob ? response.blob() : response.json();
}

function figure(id, value, format) {
  const cell = $(id);
  const missing = value === null || value === undefined;
  cell.textContent = missing ? "not available" : format(value);
  cell.className = missing ? "na" : "";
}

function showFarm(farm) {
  const workers = farm.workers || {};
  figure("queue-depth", farm.queue_depth, (v) => String(v));
  figure("workers", workers.current, (v) => v + " running" + (workers.desired === null ||
         workers.desired === undefined ? "" : ", " + workers.desired + " desired, " + workers.max + " at most"));
  figure("kafka-lag", farm.kafka_lag, (v) => v + " messages");
  figure("jobs-per-s", farm.jobs_per_s, (v) => v.toFixed(2) + " jobs/s");
}

function showJobs(jobs) {
  const body = $("jobs-body");
  body.replaceChildren();
  if (!jobs.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 4;
    cell.textContent = "no jobs yet";
  }
  for (const job of jobs) {
    const row = body.insertRow();
    row.className = "job " + job.status;
    row.dataset.jobId = job.id;
    row.insertCell().textContent = job.id;
    row.insertCell().textContent = job.status;
    row.insertCell().textContent = job.created_at ? new Date(job.created_at).toLocaleString() : "";
    const action = row.insertCell();
    if (job.status === "succeeded") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "routes";
      button.textContent = "routes";
      button.addEventListener("click", () => showRoutes(job.id));
      action.appendChild(button);
    }
  }
}

async function showRoutes(id) {
  try {
    const blob = await api("/v1/jobs/" + encodeURIComponent(id) + "/routes.svg", true);
    if (shown) URL.revokeObjectURL(shown);
    shown = URL.createObjectURL(blob);
    $("picture").src = shown;
    $("picture-open").href = shown;
    $("picture-title").textContent = "Routes of job " + id;
    $("picture-box").hidden = false;
  } catch (e) {
    if (e.message !== "unauthorized") $("message").textContent = e.message;
  }
}

async function refresh() {
  if (!key()) { showPrompt(""); return; }
  $("login").hidden = true;
  $("main").hidden = false;
  try {
    const [farm, page] = await Promise.all([api("/v1/farm"), api("/v1/jobs?limit=20")]);
    showFarm(farm);
    showJobs(page.jobs);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("message").textContent = "";
  } catch (e) {
    if (e.message !== "unauthorized") $("message").textContent = e.message;
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("key").value.trim();
  $("key").value = "";
  if (value) sessionStorage.setItem(KEY, value);
  refresh();
});
$("forget").addEventListener("click", () => { sessionStorage.removeItem(KEY); showPrompt(""); });
takeFragmentKey();
refresh();
setInterval(refresh, 5000);
"""

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>routefarm status</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>routefarm</h1><small>farm status and recent jobs</small><small id="updated"></small></header>
<section id="login" hidden>
  <form id="login-form">
    <label for="key">API key</label>
    <input id="key" type="password" autocomplete="off" size="40" required>
    <button type="submit">Use key</button>
  </form>
  <p>The key stays in this tab (session storage) and is sent only as an Authorization header.</p>
  <p id="login-message"></p>
</section>
<main id="main" hidden>
  <p id="message"></p>
  <section id="farm">
    <h2>Farm</h2>
    <dl>
      <dt>Queue depth</dt><dd id="queue-depth">…</dd>
      <dt>Workers</dt><dd id="workers">…</dd>
      <dt>Kafka lag</dt><dd id="kafka-lag">…</dd>
      <dt>Throughput</dt><dd id="jobs-per-s">…</dd>
    </dl>
  </section>
  <section id="jobs">
    <h2>Recent jobs</h2>
    <table><thead><tr><th>Job</th><th>Status</th><th>Created</th><th></th></tr></thead>
    <tbody id="jobs-body"></tbody></table>
  </section>
  <section id="picture-box" hidden>
    <h2 id="picture-title"></h2>
    <p><a id="picture-open" target="_blank" rel="noopener">open the picture on its own</a></p>
    <img id="picture" alt="routes of the selected job">
  </section>
  <p><button type="button" id="forget">Forget the key</button></p>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
