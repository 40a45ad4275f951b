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
        list.innerHTML = "";
        data.quantities.forEach(function (q) {
          var li = el("li");
          li.appendChild(el("span", {"class": "q-name"}, q.name));
          li.appendChild(document.createTextNode(" "));
          li.appendChild(el("span", {"class": q.text.length > 32 ? "q-value q-long" : "q-value"}, q.text));
          list.appendChild(li);
        });
      }
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
        tr.appendChild(el("td", {"class": "ok-mark"}, "✓ readable"));
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

  /* Review queue: j/k move, a accepts, r rejects (reason first), o opens. */
  function initQueue() {
    var queue = document.querySelector("[data-review-queue]");
    if (!queue) return;
    var items = Array.prototype.slice.call(queue.querySelectorAll("[data-queue-item]"));
    var index = -1;
    function select(i) {
      if (!items.length) return;
      index = Math.max(0, Math.min(items.length - 1, i));
      items.forEach(function (it, n) { it.classList.toggle("selected", n === index); });
      items[index].focus({preventScroll: true});
      items[index].scrollIntoView({block: "nearest"});
    }
    items.forEach(function (it, n) {
      it.addEventListener("click", function () { if (index !== n) select(n); });
      var reason = it.querySelector("[data-reason]");
      if (reason) {
        reason.addEventListener("keydown", function (e) {
          if (e.key === "Enter") { e.preventDefault(); it.querySelector("[data-reject]").click(); }
          if (e.key === "Escape") { reason.blur(); it.focus(); }
        });
      }
    });
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      if (e.key === "j") { e.preventDefault(); select(index + 1); }
      else if (e.key === "k") { e.preventDefault(); select(index - 1); }
      else if (index >= 0 && e.key === "a") { e.preventDefault(); items[index].querySelector("[data-accept]").click(); }
      else if (index >= 0 && e.key === "r") {
        e.preventDefault();
        var reason = items[index].querySelector("[data-reason]");
        if (reason.value.trim()) items[index].querySelector("[data-reject]").click(); else reason.focus();
      }
      else if (index >= 0 && e.key === "o") { e.preventDefault(); items[index].querySelector("[data-open]").click(); }
    });
    if (items.length) select(0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initAutosubmit();
    initPolling();
    initUpload();
    initQueue();
  });
})();
