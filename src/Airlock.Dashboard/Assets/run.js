// The run page, live: follows GET /api/runs/{id}/log (server-sent events) while the run lasts, and whenever the
// stream reports a state change or its end, fetches the timeline again (GET /runs/{id}/timeline, rendered by the
// server like the page) so it shows the run as it is now. Without a log endpoint or a log for this run (404) the
// log panel just says so.
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

  // One refresh at a time; a change reported meanwhile asks for one more after it, so the last one read wins.
  var refreshing = false;
  var again = false;
  function refreshTimeline() {
    var timeline = document.getElementById('timeline');
    var timelineUrl = timeline && timeline.getAttribute('data-url');
    if (!timelineUrl) { return; }
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(timelineUrl, { credentials: 'same-origin', cache: 'no-store' }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      var holder = document.createElement('div');
      holder.innerHTML = html;
      var fresh = holder.querySelector('#timeline');
      var current = document.getElementById('timeline');
      if (!fresh || !current) { return; }
      current.replaceWith(fresh);
      // The state pill takes the colour of the newest timeline entry in the run's state.
      var entries = fresh.querySelectorAll('li');
      for (var i = entries.length - 1; i >= 0; i--) {
        if (entries[i].getAttribute('data-to') === fresh.getAttribute('data-state')) {
          var pill = entries[i].querySelector('.pill');
          if (state && pill) { state.className = pill.className; }
          break;
        }
      }
    }).catch(function () { /* the next change tries again */ }).then(function () {
      refreshing = false;
      if (again) { again = false; refreshTimeline(); }
    });
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
      refreshTimeline();
    });
    source.addEventListener('end', function () {
      // A run from before logs were stored for every run has none: say so rather than show an empty panel.
      status.textContent = panel.childElementCount === 0 ? 'finished, no lines recorded' : 'finished';
      source.close();
      refreshTimeline();
    });
    source.onerror = function () { if (status.textContent === 'live') { status.textContent = 'disconnected'; } source.close(); };
  }).catch(function () { if (status.textContent === 'loading…') { status.textContent = 'no log'; } });
})();
