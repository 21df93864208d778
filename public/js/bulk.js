/*
 * The jobs page's bulk selection. Without this script the form still works: the boxes
 * post their ids, and "Select all on this page" posts the page's own ids. With it, that
 * box ticks every row (and is unticked when a row is), and a refresh of the list keeps
 * what was selected.
 */
(function () {
  'use strict';

  function rowBoxes(root) {
    return Array.prototype.slice.call(root.querySelectorAll('input.bulk-select'));
  }

  function syncAll(root) {
    var all = root.querySelector('#bulk-all');
    var boxes = rowBoxes(root);
    if (!all || boxes.length === 0) return;
    var n = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }

  document.addEventListener('change', function (event) {
    var t = event.target;
    if (!t || t.tagName !== 'INPUT') return;
    if (t.id === 'bulk-all') {
      rowBoxes(document).forEach(function (b) { b.checked = t.checked; });
    } else if (t.classList.contains('bulk-select')) {
      syncAll(document);
    }
  });

  /** The ids selected now (before a refresh replaces the rows). */
  function picked(root) {
    return rowBoxes(root).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
  }

  /** Ticks again the rows still listed after a refresh. */
  function restore(root, ids) {
    rowBoxes(root).forEach(function (b) { b.checked = ids.indexOf(b.value) >= 0; });
    syncAll(root);
  }

  window.DocketBulk = { picked: picked, restore: restore };
})();
