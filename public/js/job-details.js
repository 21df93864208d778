/*
 * The job page: the console output tailed live (server-sent events, polling when they
 * are not available), and the facts above it updated when the job changes. Uses the
 * helpers docket.js shares as window.Docket.
 */
(function () {
  'use strict';

  var sleep = window.Docket.sleep;
  var localTimes = window.Docket.localTimes;

  function setupJobDetails() {
    var out = document.getElementById('job-output');
    if (!out) return;
    var details = document.getElementById('job-details');
    var stateText = document.getElementById('output-state');
    var empty = document.getElementById('output-empty');
    var truncated = document.getElementById('output-truncated');
    var followControl = document.getElementById('follow-control');
    var follow = document.getElementById('follow-output');
    var streamUrl = out.getAttribute('data-stream');
    var after = Number(out.getAttribute('data-after')) || 0;
    var shown = {
      status: (document.getElementById('job-status') || {}).className,
      key: null,
      progress: null,
    };
    var detailsLoading = false;
    var ended = false;
    var statusAnnouncer = document.getElementById('status-announcer');
    var jobId = (streamUrl.match(/\/jobs\/(\d+)\//) || [])[1];
    var lastStatus = null;
    var LABELS = { queued: 'queued', running: 'running', completed: 'completed', failed: 'failed', cancelled: 'cancelled' };

    followControl.hidden = false;
    if (follow.checked) out.scrollTop = out.scrollHeight;

    function atBottom() {
      return out.scrollTop + out.clientHeight >= out.scrollHeight - 24;
    }

    // Following stops when the reader scrolls up to read, and resumes at the bottom.
    // (Scrolls the page makes itself land at the bottom, so they never stop it.)
    out.addEventListener('scroll', function () {
      var bottom = atBottom();
      if (follow.checked && !bottom) follow.checked = false;
      else if (!follow.checked && bottom && out.scrollHeight > out.clientHeight) follow.checked = true;
    });
    follow.addEventListener('change', function () {
      if (follow.checked) out.scrollTop = out.scrollHeight;
    });

    /** "Job 9 is queued." at the top follows the job rather than staying as it was. */
    function statusChanged(status, label) {
      if (lastStatus === status) return;
      var first = lastStatus === null;
      lastStatus = status;
      document.querySelectorAll('.flash').forEach(function (f) {
        if (jobId && new RegExp('^Job ' + jobId + ' is ').test(f.textContent)) {
          f.textContent = 'Job ' + jobId + ' is ' + (LABELS[status] || label || status) + '.';
        }
      });
      if (!first && statusAnnouncer) {
        statusAnnouncer.textContent = 'Job ' + jobId + ' is now ' + (label || status) + '.';
      }
    }

    function showOver() {
      stateText.textContent = 'The job is over; this is all of its output.';
      if (!out.querySelector('[data-chunk]')) {
        empty.hidden = false;
        empty.textContent = 'No output.';
      }
    }

    function append(chunk) {
      if (chunk.id <= after) return;
      after = chunk.id;
      var span = document.createElement('span');
      span.className = chunk.stream;
      span.setAttribute('data-chunk', String(chunk.id));
      span.textContent = chunk.text; // text, never markup
      out.appendChild(span);
      empty.hidden = true;
      if (follow.checked) out.scrollTop = out.scrollHeight;
    }

    async function reloadDetails() {
      if (detailsLoading) return;
      detailsLoading = true;
      try {
        var res = await fetch(details.getAttribute('data-fragment'), { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
        if (res.ok) {
          details.innerHTML = await res.text();
          localTimes(details);
        }
      } catch {
        /* the next change tries again */
      } finally {
        detailsLoading = false;
      }
    }

    /** Progress alone changed: update the bar and its words in place (no request). */
    function showProgress(p) {
      var label = document.getElementById('job-progress');
      var bar = details.querySelector('progress');
      if (!label || (p.percent !== null && !bar)) return false;
      label.textContent = p.label;
      if (bar && p.percent !== null) {
        bar.value = p.percent;
        bar.textContent = p.percent + ' %';
      }
      return true;
    }

    function onJob(state) {
      truncated.hidden = !state.outputTruncated;
      var key = [state.status, state.attempt, state.cancelRequested, state.error].join('|');
      var progress = state.progress ? state.progress.label : '';
      if (shown.key === null) {
        if ('status status-' + state.status !== shown.status) void reloadDetails();
      } else if (key !== shown.key) {
        void reloadDetails();
      } else if (progress !== shown.progress && !(state.progress && showProgress(state.progress))) {
        void reloadDetails();
      }
      shown.key = key;
      shown.progress = progress;
      statusChanged(state.status, state.statusLabel);
      if (ended || ['completed', 'failed', 'cancelled'].indexOf(state.status) >= 0) showOver();
      else if (state.status === 'queued') stateText.textContent = 'Waiting for the job to start.';
      else if (state.status === 'running') stateText.textContent = 'Receiving the output live.';
    }

    function onEnd() {
      if (ended) return;
      ended = true;
      showOver();
      void reloadDetails().then(function () {
        var st = document.getElementById('job-status');
        if (st) statusChanged(st.className.replace(/.*status-/, ''), st.textContent);
      });
    }

    async function poll() {
      for (;;) {
        var data;
        try {
          var res = await fetch(streamUrl + '?after=' + after, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
          if (res.status === 404 || res.status === 401) {
            stateText.textContent = 'The output is no longer available.';
            return;
          }
          data = await res.json();
        } catch {
          await sleep(5000);
          continue;
        }
        data.chunks.forEach(append);
        if (data.job) onJob(data.job);
        if (data.done) return onEnd();
        await sleep(data.more ? 0 : 2000);
      }
    }

    if (typeof EventSource !== 'function') {
      void poll();
      return;
    }
    var failures = 0;
    var source = new EventSource(streamUrl + '?after=' + after);
    source.addEventListener('output', function (e) {
      failures = 0;
      append(JSON.parse(e.data));
    });
    source.addEventListener('job', function (e) {
      onJob(JSON.parse(e.data));
    });
    source.addEventListener('end', function () {
      source.close();
      onEnd();
    });
    source.addEventListener('error', function () {
      failures++;
      // Closed for good (an error status), or failing again and again: poll instead.
      if (source.readyState === EventSource.CLOSED || failures > 5) {
        source.close();
        if (!ended) void poll();
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setupJobDetails);
  else setupJobDetails();
})();
