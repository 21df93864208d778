/*
 * Docket's only script, and an optional one: every page works without it.
 * - Jobs page: auto refresh of the results every 5 s (a server-rendered fragment, so the
 *   page keeps its scroll position and focus), paused while the tab is hidden or a
 *   dialog is open, remembered in localStorage, with one polite announcement per
 *   refresh that changed something; the "Clear inactive jobs" confirmation as a dialog.
 * - Job details: the console output tailed live (server-sent events, polling when
 *   they are not available), and the facts above it updated when the job changes.
 */
(function () {
  'use strict';

  var REFRESH_MS = 5000;
  var STORAGE_KEY = 'docket.autoRefresh';

  function readSetting() {
    try {
      return localStorage.getItem(STORAGE_KEY);
    } catch {
      return null;
    }
  }

  function writeSetting(value) {
    try {
      localStorage.setItem(STORAGE_KEY, value);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
  }

  function dialogOpen() {
    return document.querySelector('dialog[open]') !== null;
  }

  function sleep(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  // ---- confirmation dialogs -------------------------------------------------------

  function setupConfirmDialogs(onChange) {
    var forms = document.querySelectorAll('form[data-confirm-dialog]');
    forms.forEach(function (form) {
      var dialog = document.getElementById(form.getAttribute('data-confirm-dialog'));
      if (!dialog || typeof dialog.showModal !== 'function') return; // the server asks instead
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        dialog.showModal();
        // The safe choice first: Enter twice must not delete anything.
        var safe = dialog.querySelector('[data-close-dialog]');
        if (safe) safe.focus();
        onChange();
      });
      dialog.addEventListener('close', onChange);
      dialog.querySelectorAll('[data-close-dialog]').forEach(function (button) {
        button.addEventListener('click', function () {
          dialog.close();
        });
      });
    });
  }

  // ---- jobs page: auto refresh ----------------------------------------------------

  function rowStates(container) {
    var states = {};
    container.querySelectorAll('tr[data-job-id]').forEach(function (tr) {
      states[tr.getAttribute('data-job-id')] = {
        status: tr.getAttribute('data-status'),
        title: tr.getAttribute('data-title'),
        label: (tr.querySelector('.status') || {}).textContent || tr.getAttribute('data-status'),
      };
    });
    return states;
  }

  /** One sentence about what changed between two refreshes, or '' when nothing did. */
  function describeChanges(before, after) {
    var changed = [];
    var added = 0;
    Object.keys(after).forEach(function (id) {
      if (!before[id]) added++;
      else if (before[id].status !== after[id].status) changed.push('job ' + id + ' (' + after[id].title + ') is now ' + after[id].label);
    });
    var parts = [];
    if (changed.length > 3) parts.push(changed.slice(0, 3).join('; ') + '; and ' + (changed.length - 3) + ' more changed');
    else if (changed.length) parts.push(changed.join('; '));
    if (added) parts.push(added + (added === 1 ? ' new job' : ' new jobs'));
    if (!parts.length) return '';
    var text = parts.join('. ');
    return text.charAt(0).toUpperCase() + text.slice(1) + '.';
  }

  function focusKey(el, container) {
    if (!el || !container.contains(el)) return null;
    var row = el.closest('tr[data-job-id]');
    return {
      row: row ? row.getAttribute('data-job-id') : null,
      label: el.getAttribute('aria-label') || el.textContent,
      tag: el.tagName,
    };
  }

  /**
   * Focus back where it was; when the refresh removed that control (a cancelled job's
   * Cancel button), on its row, or on the summary when the row went too, never on <body>.
   */
  function restoreFocus(key, container) {
    if (!key) return;
    var scope = key.row ? container.querySelector('tr[data-job-id="' + key.row + '"]') : container;
    if (scope) {
      var candidates = scope.querySelectorAll(key.tag.toLowerCase());
      for (var i = 0; i < candidates.length; i++) {
        var c = candidates[i];
        if ((c.getAttribute('aria-label') || c.textContent) === key.label) {
          c.focus({ preventScroll: true });
          return;
        }
      }
    }
    var fallback = scope && scope !== container ? scope : document.getElementById('job-summary');
    if (!fallback) return;
    if (!fallback.hasAttribute('tabindex')) fallback.setAttribute('tabindex', '-1');
    fallback.focus({ preventScroll: true });
  }

  /** Exact times in the reader's own time zone on hover, the UTC time beside it. */
  function localTimes(root) {
    root.querySelectorAll('time[datetime]').forEach(function (t) {
      var iso = t.getAttribute('datetime');
      if (!iso || t.hasAttribute('data-local')) return;
      var d = new Date(iso);
      if (isNaN(d.getTime())) return;
      t.setAttribute('data-local', '1');
      var utc = iso.slice(0, 10) + ' ' + iso.slice(11, 19) + ' UTC';
      var local = d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
      // The jobs list shows "3 min ago" with the exact time on hover; the job page shows the exact time.
      var relative = t.title && !/UTC$/.test(t.title) ? t.title : null;
      t.title = relative ? relative + ' · ' + local + ' (' + utc + ')' : local + ' (' + utc + ')';
    });
  }

  function setupJobsPage() {
    var results = document.getElementById('job-results');
    if (!results) return;
    var control = document.getElementById('auto-refresh-control');
    var box = document.getElementById('auto-refresh');
    var live = document.getElementById('live-indicator');
    var announcer = document.getElementById('refresh-announcer');
    var refreshLink = document.getElementById('refresh-link');
    var timer = null;
    var loading = false;
    var stopped = false;

    control.hidden = false;
    box.checked = readSetting() !== 'off';

    function paused() {
      return document.hidden || dialogOpen();
    }

    function showState() {
      live.hidden = !box.checked || stopped;
      var p = paused();
      live.setAttribute('data-paused', p ? '1' : '0');
      live.textContent = p ? 'Live, paused' : 'Live';
      live.title = p ? 'Auto refresh waits while this tab is hidden or a dialog is open' : 'The list updates every 5 seconds';
    }

    function schedule() {
      if (timer) clearTimeout(timer);
      timer = null;
      if (box.checked && !stopped) timer = setTimeout(tick, REFRESH_MS);
      showState();
    }

    function announce(text) {
      if (!text) return;
      // Emptied first, so that the same sentence twice in a row is still read.
      announcer.textContent = '';
      setTimeout(function () {
        announcer.textContent = text;
      }, 50);
    }

    /** The tabs sit outside the refreshed part; the fragment brings their counts along. */
    function updateTabCounts() {
      var counts = document.getElementById('tab-counts');
      if (!counts) return;
      document.querySelectorAll('[data-count-for]').forEach(function (el) {
        var n = counts.getAttribute('data-' + el.getAttribute('data-count-for'));
        if (n !== null) el.textContent = '(' + n + ')';
      });
    }

    async function refresh(manual) {
      if (loading) return;
      loading = true;
      try {
        var res = await fetch(results.getAttribute('data-fragment'), {
          headers: { Accept: 'text/html' },
          credentials: 'same-origin',
          cache: 'no-store',
        });
        if (res.status === 401) {
          stopped = true;
          announce('Your session has ended. Log in again to keep the list up to date.');
          return;
        }
        if (!res.ok) return;
        var html = await res.text();
        // A dialog opened while the list was loading: do not change the page under it.
        if (paused() && !manual) return;
        var before = rowStates(results);
        var key = focusKey(document.activeElement, results);
        var x = window.scrollX;
        var y = window.scrollY;
        results.innerHTML = html;
        localTimes(results);
        updateTabCounts();
        window.scrollTo(x, y);
        restoreFocus(key, results);
        var text = describeChanges(before, rowStates(results));
        if (manual && !text) text = 'The list is up to date.';
        announce(text);
      } catch {
        /* offline for a moment: the next tick tries again */
      } finally {
        loading = false;
      }
    }

    async function tick() {
      timer = null;
      if (!box.checked || stopped) return;
      if (!paused()) await refresh(false);
      schedule();
    }

    box.addEventListener('change', function () {
      writeSetting(box.checked ? 'on' : 'off');
      if (box.checked) {
        stopped = false;
        void refresh(false);
      }
      schedule();
      announce(box.checked ? 'Auto refresh is on.' : 'Auto refresh is off.');
    });

    refreshLink.addEventListener('click', function (event) {
      event.preventDefault();
      void refresh(true).then(schedule);
    });

    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && box.checked && !stopped) {
        void refresh(false);
        schedule();
      } else {
        showState();
      }
    });

    setupConfirmDialogs(function () {
      showState();
      // Back from the dialog: catch up at once rather than up to 5 s later.
      if (!dialogOpen() && box.checked) {
        void refresh(false);
        schedule();
      }
    });
    schedule();
  }

  // ---- job details: live output ---------------------------------------------------

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

  function start() {
    localTimes(document);
    setupJobsPage();
    setupJobDetails();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
