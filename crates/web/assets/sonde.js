// Sonde's only script. Every page works without it; it adds conveniences (times in the viewer's
// zone, date filters read in that zone, the workflow editor's shortcuts), wired by data
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

  // "Copy" buttons: copy the text of the element named by data-copy, and say so on the button.
  // Where the clipboard is not offered (plain HTTP on another host), the text is selected
  // instead, ready for the person's own copy.
  var selectText = function (element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  };
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    var label = button.textContent;
    button.addEventListener('click', function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) { return; }
      var copied = function () {
        button.textContent = 'Copied';
        button.dataset.copied = 'true';
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent.trim()).then(copied, function () {
          selectText(source);
        });
      } else {
        selectText(source);
      }
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

  // <time datetime="…Z">: the server writes UTC; show it as the viewer's clock reads it.
  var clock = new Intl.DateTimeFormat(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
  });
  var localTimes = function (root) {
    root.querySelectorAll('time[datetime]').forEach(function (t) {
      var at = new Date(t.getAttribute('datetime'));
      if (!isNaN(at.getTime())) {
        t.title = t.getAttribute('datetime');
        t.textContent = clock.format(at);
      }
    });
  };
  localTimes(document);

  // A card with data-poll (a test send still queued): fetched again from that page, sooner at
  // first and then less often, until the fresh card has no data-poll (sent or failed).
  var poll = function (card, wait) {
    setTimeout(function () {
      fetch(card.dataset.poll, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById(card.id);
          if (!fresh) { return; }
          fresh = document.importNode(fresh, true);
          localTimes(fresh);
          card.replaceWith(fresh);
          if (fresh.dataset.poll) { poll(fresh, Math.min(wait * 2, 30000)); }
        }, function () { poll(card, Math.min(wait * 2, 30000)); });
    }, wait);
  };
  document.querySelectorAll('[data-poll]').forEach(function (card) { poll(card, 1000); });

  // Date filters: a day is the viewer's day, sent as the instants it starts and ends.
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll('form[data-local-dates]').forEach(function (form) {
    form.querySelectorAll('[data-zone]').forEach(function (z) { z.textContent = zone; });
    form.addEventListener('submit', function () {
      var day = function (value, after) {
        if (!value) { return ''; }
        var d = new Date(value + 'T00:00:00');
        d.setDate(d.getDate() + after);
        return isNaN(d.getTime()) ? '' : d.toISOString();
      };
      form.elements.since.value = day(form.elements.from.value, 0);
      form.elements.until.value = day(form.elements.to.value, 1);
    });
  });

  // Workflow editor: a picker whose choice changes what the form offers presses "Load fields".
  document.querySelectorAll('select[data-refresh]').forEach(function (s) {
    s.addEventListener('change', function () {
      var b = document.getElementById(s.dataset.refresh);
      if (b) { b.click(); }
    });
  });

  // Workflow editor: choosing a picklist field (or leaving one) brings its list of values.
  var isPicklist = function (s) {
    var o = s.options[s.selectedIndex];
    return !!o && o.hasAttribute('data-picklist');
  };
  document.querySelectorAll('select[data-picklist-refresh]').forEach(function (s) {
    var was = isPicklist(s);
    s.addEventListener('change', function () {
      if (was || isPicklist(s)) {
        var b = document.getElementById(s.dataset.picklistRefresh);
        if (b) { b.click(); }
      }
    });
  });

  // Workflow editor: "Insert piped text" puts the pick into its field at once, at the cursor.
  document.querySelectorAll('select[data-pick-for]').forEach(function (pick) {
    pick.addEventListener('change', function () {
      var field = document.getElementById(pick.dataset.pickFor);
      var kind = document.getElementById(pick.dataset.kind);
      if (!field || !pick.value) { return; }
      if (kind) { kind.value = 'piped'; }
      if (field.tagName === 'SELECT') {
        // A list of specified values: the form comes back with a text field holding the pick.
        var b = document.getElementById(pick.dataset.refresh);
        if (b) { b.click(); }
        return;
      }
      var at = typeof field.selectionStart === 'number' ? field.selectionStart : field.value.length;
      var end = typeof field.selectionEnd === 'number' ? field.selectionEnd : at;
      field.value = field.value.slice(0, at) + pick.value + field.value.slice(end);
      var caret = at + pick.value.length;
      field.focus();
      field.setSelectionRange(caret, caret);
      pick.value = '';
    });
  });

  // An SMS template's body: its segment count and alphabet as one types (the server wrote the
  // count the page opened with; this is the same GSM-7 / UCS-2 arithmetic).
  var GSM_BASIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !\"#$%&'()*+,-./:;<=>?@_\n\r" +
    "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";
  var GSM_EXTENDED = "\f^{}\\[~]|€";
  var smsSize = function (text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (c) { return GSM_BASIC.indexOf(c) >= 0 || GSM_EXTENDED.indexOf(c) >= 0; });
    var units = 0;
    chars.forEach(function (c) { units += gsm ? (GSM_EXTENDED.indexOf(c) >= 0 ? 2 : 1) : c.length; });
    var single = gsm ? 160 : 70;
    var segment = gsm ? 153 : 67;
    var segments = 0;
    if (units > 0 && units <= single) {
      segments = 1;
    } else if (units > single) {
      // Cut as the network does: a character never split across two segments.
      var used = 0;
      segments = 1;
      chars.forEach(function (c) {
        var cost = gsm ? (GSM_EXTENDED.indexOf(c) >= 0 ? 2 : 1) : c.length;
        if (used + cost > segment) { segments += 1; used = 0; }
        used += cost;
      });
    }
    return segments + ' segment' + (segments === 1 ? '' : 's') + ' · ' +
      (gsm ? 'GSM-7' : 'UCS-2 (a character outside GSM-7)') + ' · ' + chars.length + ' characters';
  };
  document.querySelectorAll('textarea[data-sms-count]').forEach(function (area) {
    var out = document.getElementById(area.dataset.smsCount);
    if (!out) { return; }
    area.addEventListener('input', function () { out.textContent = smsSize(area.value); });
  });

  // A new distribution's time zone starts as the viewer's own.
  document.querySelectorAll('input[data-local-zone]').forEach(function (input) {
    if (zone) { input.value = zone; }
  });

  // The distribution form: the template pickers offer the chosen channel's templates.
  document.querySelectorAll('form#distribution-form').forEach(function (form) {
    var offer = function () {
      var chosen = form.querySelector('input[name=channel]:checked') || form.querySelector('input[name=channel]');
      if (!chosen) { return; }
      var kind = chosen.value === 'email' ? 'email' : 'sms';
      form.querySelectorAll('select option[data-channel]').forEach(function (o) {
        o.hidden = o.dataset.channel !== kind;
        if (o.hidden && o.selected) { o.parentElement.value = ''; }
      });
    };
    form.querySelectorAll('input[name=channel]').forEach(function (r) { r.addEventListener('change', offer); });
    offer();
  });
  // A button with data-confirm (the builder's deletes) asks first.
  document.querySelectorAll('button[data-confirm]').forEach(function (b) {
    b.addEventListener('click', function (event) {
      if (!window.confirm(b.dataset.confirm + '?')) { event.preventDefault(); }
    });
  });

  // The survey builder: dragging a question onto another (or onto a block's empty space)
  // submits the same "move question" change the Move up / Move down buttons make.
  var moveForm = document.getElementById('move-form');
  if (moveForm) {
    // Back from a change at the question or block it was about (#q-QID3): the keyboard
    // carries on from there, not from the top of the page.
    var changed = location.hash && document.getElementById(location.hash.slice(1));
    if (changed && changed.matches('li.element, section.block')) {
      changed.tabIndex = -1;
      changed.focus();
    }
    var dragged = null;
    var clearMarks = function () {
      document.querySelectorAll('.drop-before, .drop-after').forEach(function (e) {
        e.classList.remove('drop-before', 'drop-after');
      });
    };
    var target = function (event) {
      var item = event.target.closest('li.element');
      var list = event.target.closest('ol.elements, .drop-end');
      if (item) {
        var r = item.getBoundingClientRect();
        return { block: item.dataset.block, position: Number(item.dataset.position),
          after: event.clientY > r.top + r.height / 2, item: item };
      }
      if (list) {
        var n = list.querySelectorAll ? list.querySelectorAll('li.element').length : 0;
        return { block: list.dataset.block, position: list.dataset.position ? Number(list.dataset.position) : n, after: false };
      }
      return null;
    };
    document.querySelectorAll('li.element.question[draggable]').forEach(function (li) {
      li.addEventListener('dragstart', function (event) {
        dragged = li;
        li.classList.add('dragging');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', li.dataset.question);
      });
      li.addEventListener('dragend', function () {
        li.classList.remove('dragging');
        clearMarks();
        dragged = null;
      });
    });
    document.querySelectorAll('ol.elements, .drop-end').forEach(function (zone) {
      zone.addEventListener('dragover', function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        clearMarks();
        var t = target(event);
        if (t && t.item && t.item !== dragged) { t.item.classList.add(t.after ? 'drop-after' : 'drop-before'); }
      });
      zone.addEventListener('drop', function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        var t = target(event);
        if (!t || t.item === dragged) { clearMarks(); return; }
        var position = t.position + (t.after ? 1 : 0);
        // The question leaves its place first: below it in the same block, one place less.
        if (t.block === dragged.dataset.block && Number(dragged.dataset.position) < position) { position -= 1; }
        moveForm.elements.question_id.value = dragged.dataset.question;
        moveForm.elements.block_id.value = t.block;
        moveForm.elements.position.value = String(position);
        moveForm.submit();
      });
    });
  }

  // The question editor's rows (choices, statements, scale points): dragged into a new order,
  // then renumbered so the form posts them in that order, as the Up / Down buttons would.
  document.querySelectorAll('ol.row-list[data-rows]').forEach(function (list) {
    var name = list.dataset.rows;
    var pattern = new RegExp('^' + name + '\\[\\d+\\]');
    var renumber = function () {
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.querySelectorAll('[name]').forEach(function (input) {
          input.name = input.name.replace(pattern, name + '[' + i + ']');
        });
        li.querySelectorAll('button[name=row]').forEach(function (b) {
          b.value = b.value.replace(/:(\d+)$/, ':' + i);
        });
      });
    };
    var dragging = null;
    Array.prototype.forEach.call(list.children, function (li) {
      var handle = li.querySelector('.drag-handle');
      if (!handle) { return; }
      handle.addEventListener('dragstart', function (event) {
        dragging = li;
        li.classList.add('dragging');
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData('text/plain', name);
        event.dataTransfer.setDragImage(li, 0, 0);
      });
      handle.addEventListener('dragend', function () {
        li.classList.remove('dragging');
        dragging = null;
        renumber();
      });
      li.addEventListener('dragover', function (event) {
        if (!dragging || dragging === li) { return; }
        event.preventDefault();
        var r = li.getBoundingClientRect();
        list.insertBefore(dragging, event.clientY > r.top + r.height / 2 ? li.nextSibling : li);
      });
      li.addEventListener('drop', function (event) { if (dragging) { event.preventDefault(); } });
    });
  });
  // The Salesforce panel lives in Salesforce's frame on a pass that runs out. When a page says
  // it has (data-panel-refresh), or the pass is about to on a page with nothing typed into it,
  // ask the hosting Salesforce page for a fresh signed request and post it to /panel, as
  // Salesforce itself first did. Messages are sent to, and taken from, the org's origins only.
  var holder = document.querySelector('[data-panel-refresh], [data-panel-expires]');
  if (holder && window.parent !== window) {
    var origins = (holder.dataset.panelOrigins || '').split(' ').filter(Boolean);
    var ask = function () {
      origins.forEach(function (o) { window.parent.postMessage({ type: 'sonde.refresh' }, o); });
    };
    window.addEventListener('message', function (ev) {
      var d = ev.data || {};
      if (origins.indexOf(ev.origin) < 0 || d.type !== 'sonde.signedRequest' || typeof d.signedRequest !== 'string') { return; }
      var f = document.createElement('form');
      f.method = 'post';
      f.action = '/panel';
      var i = document.createElement('input');
      i.type = 'hidden';
      i.name = 'signed_request';
      i.value = d.signedRequest;
      f.appendChild(i);
      document.body.appendChild(f);
      f.submit();
    });
    if (holder.hasAttribute('data-panel-refresh')) {
      ask();
    } else {
      var typed = false;
      document.addEventListener('input', function () { typed = true; });
      var left = Number(holder.dataset.panelExpires) - Date.now() - 60000;
      setTimeout(function () { if (!typed) { ask(); } }, Math.max(left, 1000));
    }
  }
})();
