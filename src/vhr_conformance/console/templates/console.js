// Live progress of a run page from its server-sent events. Only text is written (textContent,
// never HTML): area names and counts come from the run. Without JavaScript the page reloads itself.
"use strict";
(function () {
  var table = document.getElementById("progress");
  if (!table || !table.dataset.events || !window.EventSource) {
    return;
  }
  var keys = ["passed", "failed", "skipped", "broken"];
  var status = null;
  function cell(row, key) {
    var td = row.querySelector('[data-k="' + key + '"]');
    if (!td) {
      td = document.createElement("td");
      td.dataset.k = key;
      row.appendChild(td);
    }
    return td;
  }
  function show(progress, overall) {
    var body = table.tBodies[0];
    Object.keys(progress).forEach(function (area) {
      var n = progress[area] || {};
      var row = null;
      Array.prototype.forEach.call(body.rows, function (r) {
        if (r.dataset.area === area) {
          row = r;
        }
      });
      if (!row) {
        row = body.insertRow(-1);
        row.dataset.area = area;
        var th = document.createElement("th");
        th.scope = "row";
        th.textContent = area;
        row.appendChild(th);
      }
      cell(row, "done").textContent = (n.done || 0) + " / " + (n.total || 0);
      keys.forEach(function (k) {
        cell(row, k).textContent = String(n[k] || 0);
      });
    });
    document.getElementById("overall").textContent = overall.done + " / " + overall.total;
    var bar = document.getElementById("overall-bar");
    bar.max = Math.max(overall.total, 1);
    bar.value = overall.done;
    bar.textContent = overall.done + " / " + overall.total;
  }
  var source = new EventSource(table.dataset.events);
  source.onmessage = function (event) {
    var data = JSON.parse(event.data);
    show(data.progress || {}, data.overall || { done: 0, total: 0 });
    if (status !== null && data.status !== status) {
      // queued → running shows the worker's facts; finished shows the results: the server renders them
      source.close();
      window.location.reload();
      return;
    }
    status = data.status;
    if (data.status === "finished") {
      source.close();
      window.location.reload();
    }
  };
})();
