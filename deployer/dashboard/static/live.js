// The live page: server-sent events from /live/events (the run announcements), each
// updating its run's row in place and adding a line to the log. No library, no reload.
"use strict";

(function () {
  const listener = document.getElementById("listener");
  const listenerText = document.getElementById("listener-text");
  const rows = document.getElementById("live-runs");
  const log = document.getElementById("log");
  const MAX_LOG = 200;

  function setListener(state, text) {
    listener.className = "badge " + state;
    listenerText.textContent = text;
    document.body.dataset.live = state === "ok" ? "listening" : "not listening";
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function statusBadge(td, status) {
    td.textContent = "";
    if (!status) return;
    const span = document.createElement("span");
    span.className = "status " + status;
    span.textContent = status;
    td.appendChild(span);
  }

  // An announcement's moment as the rows the server drew show theirs: "2026-11-30 12:00:05 UTC".
  function utc(at) {
    const when = new Date(at);
    if (!at || isNaN(when.getTime())) return String(at || "");
    return when.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  }

  function ms(value) {
    if (value === undefined || value === null) return "";
    return value < 10000 ? value + " ms" : (value / 1000).toFixed(1) + " s";
  }

  function rowFor(event) {
    const id = String(event.execution_id);
    let row = rows.querySelector('tr[data-execution-id="' + CSS.escape(id) + '"]');
    if (row) return row;
    row = document.createElement("tr");
    row.dataset.executionId = id;
    row.dataset.job = event.job;
    row.appendChild(cell(id));
    const jobCell = document.createElement("td");
    const link = document.createElement("a");
    link.href = "/jobs/" + encodeURIComponent(event.job);
    link.textContent = event.job;
    jobCell.appendChild(link);
    row.appendChild(jobCell);
    row.appendChild(cell(utc(event.at)));
    for (const field of ["status", "batches", "affected", "duration"]) {
      const td = cell("");
      td.dataset.field = field;
      row.appendChild(td);
    }
    row.appendChild(cell(event.executed_by || ""));
    rows.insertBefore(row, rows.firstChild);
    return row;
  }

  function field(row, name) {
    return row.querySelector('td[data-field="' + name + '"]');
  }

  function onRun(event) {
    const row = rowFor(event);
    row.classList.add("fresh");
    if (event.event === "start") {
      row.className = "running fresh";
      statusBadge(field(row, "status"), "running");
      field(row, "batches").textContent = "0";
      field(row, "affected").textContent = "0";
    } else if (event.event === "batch") {
      field(row, "batches").textContent = String(event.batch);
      field(row, "affected").textContent = String(event.total);
    } else if (event.event === "end" || event.event === "skipped") {
      row.className = event.status + " fresh";
      statusBadge(field(row, "status"), event.status);
      if (event.batches !== undefined) field(row, "batches").textContent = String(event.batches);
      if (event.affected !== undefined) field(row, "affected").textContent = String(event.affected);
      field(row, "duration").textContent = ms(event.duration_ms);
    }
    row.dataset.event = event.event;
    const empty = log.querySelector("li.empty");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.className = event.event + (event.status ? " " + event.status : "");
    item.textContent = event.line;
    log.insertBefore(item, log.firstChild);
    while (log.children.length > MAX_LOG) log.removeChild(log.lastChild);
  }

  // EventSource retries by itself after a dropped stream, but gives up on an answer other
  // than 200 (the database down, or too many pages watching: 503); then a new one is
  // opened a little later. The stream stays open while the server's one listener
  // reconnects to the database (paused, then ready again); a page that fell too far behind
  // is ended by the server (behind) and reconnects.
  function listen() {
    const source = new EventSource(listener.dataset.events);
    source.addEventListener("ready", function () { setListener("ok", "listening"); });
    source.addEventListener("paused", function () { setListener("warn", "database unreachable, reconnecting…"); });
    source.addEventListener("behind", function () { setListener("warn", "fell behind, reconnecting…"); });
    source.addEventListener("run", function (message) { onRun(JSON.parse(message.data)); });
    source.addEventListener("error", function () {
      setListener("warn", "reconnecting…");
      if (source.readyState === EventSource.CLOSED) setTimeout(listen, 5000);
    });
  }
  listen();
})();
