/*
 * Docket's scripts are optional: every page works without them. This one serves every
 * page; job-details.js, loaded after it, the job page.
 * - Jobs page: auto refresh of the results every 5 s (a server-rendered fragment, so the
 *   page keeps its scroll position and focus), paused while the tab is hidden or a
 *   dialog is open, remembered in localStorage, with one polite announcement per
 *   refresh that changed something; the "Clear inactive jobs" confirmation as a dialog.
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
        var picked = window.DocketBulk ? window.DocketBulk.picked(results) : [];
        var key = focusKey(document.activeElement, results);
        var x = window.scrollX;
        var y = window.scrollY;
        results.innerHTML = html;
        if (window.DocketBulk) window.DocketBulk.restore(results, picked);
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

  function start() {
    localTimes(document);
    setupJobsPage();
  }

  // What job-details.js (the job page's script, loaded after this one) shares.
  window.Docket = { sleep: sleep, localTimes: localTimes };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
