// The run page's live log: follows GET /api/runs/{id}/log (server-sent events) while the run lasts.
// Without a log endpoint or a log for this run (404) the panel just says so.
(function () {
  'use strict';
  var panel = document.getElementById('log');
  var status = document.getElementById('log-status');
  var state = document.getElementById('run-state');
  if (!panel || !status) { return; }
  var url = panel.getAttribute('data-log-url');

  function append(entry) {
    var line = document.createElement('span');
    line.className = 'line ' + (entry.stream || 'stdout');
    line.textContent = (entry.line || '') + '\n';
    panel.appendChild(line);
    panel.scrollTop = panel.scrollHeight;
  }

  var probe = new AbortController();
  fetch(url + '?format=text', { signal: probe.signal, credentials: 'same-origin' }).then(function (response) {
    probe.abort(); // only the status matters here; the stream below carries the lines
    if (response.status === 404) { status.textContent = 'no log'; return; }
    if (!response.ok) { status.textContent = 'log unavailable (' + response.status + ')'; return; }
    status.textContent = 'live';
    var source = new EventSource(url);
    source.onmessage = function (e) { try { append(JSON.parse(e.data)); } catch (err) { /* a malformed line is skipped */ } };
    source.addEventListener('state', function (e) {
      try { if (state) { state.textContent = JSON.parse(e.data).state; } } catch (err) { /* ignored */ }
    });
    source.addEventListener('end', function () { status.textContent = 'finished'; source.close(); });
    source.onerror = function () { if (status.textContent === 'live') { status.textContent = 'disconnected'; } source.close(); };
  }).catch(function () { if (status.textContent === 'loading…') { status.textContent = 'no log'; } });
})();
