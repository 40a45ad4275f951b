/* LabTrack: a little plain JavaScript. Every page works without it; this adds live
   progress bars, drag-and-drop upload with format preview, and review-queue keys. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrfToken(form) {
    var input = (form || document).querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Project switcher: change = switch. */
  function initAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  /* Progress: poll /runs/<id>/status.json until the run finishes. */
  function pollRun(box) {
    var url = box.getAttribute("data-run-status-url");
    var delay = 1000;
    function update(data) {
      var progress = box.querySelector("progress");
      var stage = box.querySelector("[data-role=stage]");
      var status = box.querySelector("[data-role=status]");
      if (progress) { progress.value = data.progress_percent; progress.textContent = data.progress_percent + "%"; }
      if (stage) stage.textContent = data.stage_label + " (" + data.progress_percent + "%)";
      if (status) {
        status.textContent = data.status_label;
        status.className = "badge run-status status-" + data.status;
      }
      if (!data.finished) return false;
      var wrap = box.querySelector("[data-role=progress]");
      if (wrap) wrap.remove();
      if (data.figure_url) {
        var link = box.querySelector("[data-role=thumb]");
        if (link) {
          link.innerHTML = "";
          var large = box.hasAttribute("data-reload-when-done");
          var img = el("img", {src: large ? data.figure_url : (data.thumbnail_url || data.figure_url),
                               alt: "Fitted figure of run #" + data.id, "class": large ? "figure" : "thumb"});
          link.appendChild(img);
          link.hidden = false;
        }
      }
      var list = box.querySelector("[data-role=quantities]");
      if (list && data.quantities) {
        var table = box.querySelector("[data-role=component-table]");
        if (table) table.remove();
        list.innerHTML = "";
        data.quantities.forEach(function (q) {
          var row = el("div");
          row.appendChild(el("dt", {}, q.name));
          row.appendChild(el("dd", {}, q.text));
          list.appendChild(row);
        });
      }
      var review = box.querySelector("[data-role=review]");
      if (review && data.status === "succeeded") {
        review.textContent = data.review_label;
        review.className = "badge review-" + data.review_state;
        review.hidden = false;
      }
      if (data.status === "succeeded") refreshKeyResults();
      if (data.error) {
        var p = el("p", {"class": "run-error", role: "alert"}, data.error);
        (box.querySelector(".run-body") || box).appendChild(p);
      }
      box.removeAttribute("data-run-status-url");
      box.setAttribute("data-run-finished", data.status);
      if (box.hasAttribute("data-reload-when-done")) window.location.reload();
      return true;
    }
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (!update(data)) { delay = Math.min(delay * 1.2, 4000); setTimeout(tick, delay); }
        })
        .catch(function () { delay = Math.min(delay * 2, 15000); setTimeout(tick, delay); });
    }
    setTimeout(tick, 500);
  }

  /* Batch page: a finished run changes the key results; fetch the table again (once per
     burst of finishing runs) instead of reloading the page. */
  var keyResultsTimer = null;
  function refreshKeyResults() {
    var section = document.querySelector("[data-key-results-url]");
    if (!section) return;
    clearTimeout(keyResultsTimer);
    keyResultsTimer = setTimeout(function () {
      fetch(section.getAttribute("data-key-results-url"), {credentials: "same-origin"})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          section.replaceChildren.apply(section, Array.prototype.slice.call(doc.body.childNodes));
          section.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () { /* the table stays as it was; a reload shows the new values */ });
    }, 300);
  }

  function initPolling() {
    document.querySelectorAll("[data-run-status-url]").forEach(pollRun);
  }

  /* Upload: drop files, show what each one is before saving. */
  function initUpload() {
    var form = document.querySelector("form[data-detect-url]");
    if (!form) return;
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("input[type=file][name=files]");
    var preview = form.querySelector("[data-detect-preview]");
    var technique = form.querySelector("select[name=technique]");

    function render(data) {
      preview.innerHTML = "";
      var table = el("table", {"class": "data"});
      table.appendChild(el("caption", {}, "What LabTrack found in the files (nothing is saved yet)"));
      var head = el("tr");
      ["File", "Format", "Data", "Technique", "Analysis", ""].forEach(function (h) { head.appendChild(el("th", {scope: "col"}, h)); });
      var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
      var tbody = el("tbody");
      (data.files || []).forEach(function (f) {
        var tr = el("tr");
        [f.name, f.format, f.kind, f.technique_label, f.routine || "—"].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
        if (f.mismatch) {
          tr.className = "bad";
          tr.appendChild(el("td", {"class": "bad-mark"}, "✗ " + f.mismatch));
        } else {
          tr.appendChild(el("td", {"class": "ok-mark"}, "✓ readable"));
        }
        tbody.appendChild(tr);
      });
      Object.keys(data.errors || {}).forEach(function (name) {
        var tr = el("tr", {"class": "bad"});
        tr.appendChild(el("td", {}, name || "(all files)"));
        var td = el("td", {colspan: "5"}, "Cannot be read: " + data.errors[name].join(" "));
        tr.appendChild(td);
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      preview.appendChild(table);
      if (data.problem) preview.appendChild(el("p", {"class": "notice"}, data.problem));
      else if (data.technique && technique && !technique.value) {
        preview.appendChild(el("p", {"class": "muted"}, "These files will be saved as a " +
          data.files[0].technique_label + " measurement."));
      }
      if (data.errors && Object.keys(data.errors).length) {
        preview.appendChild(el("p", {"class": "field-error", role: "alert"},
          "Remove or replace the files that cannot be read; nothing will be saved while one of them fails."));
      }
    }

    function detect() {
      if (!input.files.length) { preview.innerHTML = ""; return; }
      var body = new FormData();
      Array.prototype.forEach.call(input.files, function (f) { body.append("files", f, f.name); });
      if (technique && technique.value) body.append("technique", technique.value);
      preview.innerHTML = "";
      preview.appendChild(el("p", {"class": "muted"}, "Checking " + input.files.length + " file(s)…"));
      fetch(form.getAttribute("data-detect-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(form), "Accept": "application/json"}
      }).then(function (r) { return r.json(); }).then(render).catch(function (e) {
        preview.innerHTML = "";
        preview.appendChild(el("p", {"class": "field-error"}, "Could not check the files (" + e + "). You can still save."));
      });
    }

    input.addEventListener("change", detect);
    if (technique) technique.addEventListener("change", detect);  // a mismatch shows before Save
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("dragover"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("dragover"); });
    });
    zone.addEventListener("drop", function (e) {
      var dt = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { dt.items.add(f); });
      input.files = dt.files;
      detect();
    });
  }

  /* Review queue: j/k move, a accepts, r rejects (reason first), o opens. A keyboard
     decision is not sent at once: the card shows "Accepting … in 5 s — Undo" and u (or the
     button) cancels it, so one stray key decides nothing. Nothing is sent if the page is
     left during the wait (the run stays pending). Buttons clicked with the mouse submit
     at once, as before. */
  function initQueue() {
    var queue = document.querySelector("[data-review-queue]");
    if (!queue) return;
    var items = Array.prototype.slice.call(queue.querySelectorAll("[data-queue-item]"));
    var waitSeconds = parseInt(queue.getAttribute("data-undo-seconds") || "5", 10);
    var index = -1;
    var pending = null;  // {item, timer, tick}
    function select(i) {
      if (!items.length) return;
      index = Math.max(0, Math.min(items.length - 1, i));
      items.forEach(function (it, n) { it.classList.toggle("selected", n === index); });
      items[index].focus({preventScroll: true});
      items[index].scrollIntoView({block: "nearest"});
    }
    function undo() {
      if (!pending) return;
      clearTimeout(pending.timer);
      clearInterval(pending.tick);
      var bar = pending.item.querySelector("[data-undo-bar]");
      bar.querySelector("[data-undo-text]").textContent = "Undone: nothing was sent.";
      bar.querySelector("[data-undo]").hidden = true;
      pending.item.classList.remove("pending-decision");
      pending.item.focus({preventScroll: true});
      pending = null;
    }
    function decideLater(item, button, verb) {
      if (pending) undo();
      var bar = item.querySelector("[data-undo-bar]");
      var text = bar.querySelector("[data-undo-text]");
      var left = waitSeconds;
      var label = item.getAttribute("data-run-label") || "this run";
      function show() { text.textContent = verb + " " + label + " in " + left + " s"; }
      show();
      bar.querySelector("[data-undo]").hidden = false;
      bar.hidden = false;
      item.classList.add("pending-decision");
      pending = {item: item};
      pending.tick = setInterval(function () { left -= 1; if (left > 0) show(); }, 1000);
      pending.timer = setTimeout(function () {
        clearInterval(pending.tick);
        text.textContent = verb + " " + label + "…";
        bar.querySelector("[data-undo]").hidden = true;
        pending = null;
        var form = button.form;
        if (form.requestSubmit) form.requestSubmit(button); else button.click();
      }, waitSeconds * 1000);
    }
    items.forEach(function (it, n) {
      it.addEventListener("click", function () { if (index !== n) select(n); });
      var undoButton = it.querySelector("[data-undo]");
      if (undoButton) undoButton.addEventListener("click", function (e) { e.stopPropagation(); undo(); });
      var reason = it.querySelector("[data-reason]");
      if (reason) {
        reason.addEventListener("keydown", function (e) {
          if (e.key === "Enter") {
            e.preventDefault();
            if (!reason.value.trim()) return;
            reason.blur();
            it.focus({preventScroll: true});
            decideLater(it, it.querySelector("[data-reject]"), "Rejecting");
          }
          if (e.key === "Escape") { reason.blur(); it.focus(); }
        });
      }
    });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      if (e.key === "u" && pending) { e.preventDefault(); undo(); }
      else if (e.key === "j") { e.preventDefault(); select(index + 1); }
      else if (e.key === "k") { e.preventDefault(); select(index - 1); }
      else if (index >= 0 && e.key === "a") { e.preventDefault(); decideLater(items[index], items[index].querySelector("[data-accept]"), "Accepting"); }
      else if (index >= 0 && e.key === "r") {
        e.preventDefault();
        var reason = items[index].querySelector("[data-reason]");
        if (reason.value.trim()) decideLater(items[index], items[index].querySelector("[data-reject]"), "Rejecting");
        else reason.focus();
      }
      else if (index >= 0 && e.key === "o") { e.preventDefault(); items[index].querySelector("[data-open]").click(); }
    });
    if (items.length) select(0);
  }

  /* Label sheets: a Print button (no inline handlers under the CSP). */
  function initPrint() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initPrint();
    initAutosubmit();
    initPolling();
    initUpload();
    initQueue();
  });
})();
