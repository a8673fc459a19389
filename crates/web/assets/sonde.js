// Sonde's only script. Every page works without it; it adds conveniences, wired by data
// attributes so pages carry no inline code (the Content-Security-Policy allows none).
(function () {
  'use strict';

  // A form that moves on by itself (a timing question's auto-advance), after N milliseconds.
  document.querySelectorAll('form[data-auto-advance]').forEach(function (form) {
    var ms = parseInt(form.dataset.autoAdvance, 10);
    if (ms > 0) {
      setTimeout(function () { form.submit(); }, ms);
    }
  });

  // "Copy" buttons: copy the text of the element named by data-copy.
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () {
      var source = document.getElementById(button.dataset.copy);
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.textContent.trim());
      }
    });
  });

  // The workflow editor: changing a picker presses its "Load fields" button.
  document.querySelectorAll('select[data-refresh]').forEach(function (select) {
    select.addEventListener('change', function () {
      var button = document.getElementById('refresh-' + select.dataset.refresh);
      if (button) { button.click(); }
    });
  });

  // "Go back" links go back in history when there is somewhere to go back to.
  document.querySelectorAll('a[data-back]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
