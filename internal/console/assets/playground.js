// The playground: runs the form's rule on the payload as you type (a
// debounced POST to /console/playground/run) and shows what came of it.
// Everything the server sends back is put in as text, never as HTML,
// except the previews, which go into sandboxed frames.
(function () {
  "use strict";
  var form = document.getElementById("playground");
  if (!form) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var status = document.getElementById("pg-status");
  var fields = { when: "pg-when", title: "pg-title", body: "pg-body", key: "pg-key" };
  var last = null, seq = 0, timer = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function request() {
    var to = [];
    form.querySelectorAll('input[name="to"]:checked').forEach(function (c) { to.push(c.value); });
    return {
      payload: form.payload.value, name: form.name.value, description: form.description.value,
      when: form.when.value, severity: form.severity.value, to: to,
      title: form.title.value, body: form.body.value, key: form.key.value
    };
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, 350);
  }

  function run() {
    var mine = ++seq;
    status.textContent = "Running…";
    fetch("/console/playground/run", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(request())
    }).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (r) {
      if (mine !== seq) { return; }
      if (!r.ok) { status.textContent = r.body.error || "The playground failed."; return; }
      show(r.body);
    }).catch(function (err) {
      if (mine === seq) { status.textContent = "The playground could not be reached: " + err; }
    });
  }

  // goTo puts the cursor at line:column of a field.
  function goTo(field, line, column) {
    var input = document.getElementById(fields[field]);
    var lines = input.value.split("\n"), at = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { at += lines[i].length + 1; }
    at += Math.max(column - 1, 0);
    input.focus();
    input.setSelectionRange(at, at + 1);
  }

  function diagnosticItem(d) {
    var li = el("li", { "class": d.severity === "warning" ? "warning" : "error" });
    var where = d.line ? "line " + d.line + (d.column ? ", column " + d.column : "") : "";
    var head = el("span", { "class": "where" }, (d.severity === "warning" ? "Warning" : "Error") +
      (where ? " at " + where + " (" + d.line + ":" + d.column + ")" : "") + ": ");
    li.appendChild(head);
    li.appendChild(el("span", { "class": "message" }, d.message + (d.hint ? "; " + d.hint : "")));
    if (d.source && d.column) {
      var caret = new Array(d.column).join(" ") + "^";
      li.appendChild(el("pre", { "class": "code", "aria-hidden": "true" }, d.source + "\n" + caret));
    }
    if (fields[d.field] && d.line) {
      var b = el("button", { type: "button", "class": "link goto" }, "Go to " + d.line + ":" + d.column);
      b.addEventListener("click", function () { goTo(d.field, d.line, d.column); });
      li.appendChild(b);
    }
    return li;
  }

  function showDiagnostics(diags) {
    var lists = { when: [], title: [], body: [], key: [], rule: [] };
    diags.forEach(function (d) { (lists[d.field] || lists.rule).push(d); });
    Object.keys(lists).forEach(function (f) {
      var box = document.getElementById("diag-" + f);
      box.textContent = "";
      if (fields[f]) {
        document.getElementById(fields[f]).setAttribute("aria-invalid", lists[f].some(function (d) { return d.severity !== "warning"; }) ? "true" : "false");
      }
      if (!lists[f].length) { return; }
      var ul = el("ul");
      lists[f].forEach(function (d) { ul.appendChild(diagnosticItem(d)); });
      box.appendChild(ul);
    });
  }

  function showEvents(ans) {
    var box = document.getElementById("pg-events");
    box.textContent = "";
    ans.events.forEach(function (e) {
      var art = el("article", { "class": "card pg-event" });
      art.appendChild(el("h3", {}, "Event " + (e.index + 1) + ": " + e.field + "/" + e.event + (e.waba_id ? " (WABA " + e.waba_id + ")" : "")));
      art.appendChild(el("p", { "class": "verdict " + (e.matched ? "yes" : "no") }, e.redelivery ? "A redelivery: nothing is decided." :
        e.matched ? "The rule matches." : "The rule does not match."));
      if (e.error) { art.appendChild(el("p", { "class": "problem-text" }, "The rule failed on it: " + e.error)); }
      if (e.incidents.length) {
        var ul = el("ul", { "class": "plain incidents" });
        e.incidents.forEach(function (it) {
          ul.appendChild(el("li", {}, "Incident " + it.transition + " under key " + it.key + (it.reason ? ": " + it.reason : "")));
        });
        art.appendChild(el("h4", {}, "Incident"));
        art.appendChild(ul);
      }
      if (e.notifications.length) {
        var nl = el("ul", { "class": "plain notifications" });
        e.notifications.forEach(function (n) {
          nl.appendChild(el("li", {}, n.outcome + " to " + n.sink + (n.sink_type ? " (" + n.sink_type + ")" : "") + ", " + n.severity +
            (n.transition ? ", " + n.transition : "") + ": " + n.title + (n.reason ? " — " + n.reason : "") + (n.held_until ? " — held until " + n.held_until : "")));
        });
        art.appendChild(el("h4", {}, "Notifications"));
        art.appendChild(nl);
      }
      box.appendChild(art);
    });
  }

  // frame shows html in a sandboxed frame, marked data-shown once drawn.
  function frame(id, html) {
    var f = document.getElementById(id);
    if (f.srcdoc === html) { return; }
    f.removeAttribute("data-shown");
    f.onload = function () { f.setAttribute("data-shown", "true"); };
    f.srcdoc = html;
  }

  function showPreviews(ans) {
    var p = null;
    ans.events.forEach(function (e) { if (!p && e.preview) { p = e.preview; } });
    var box = document.getElementById("pg-previews");
    box.hidden = !p;
    if (!p) { return; }
    frame("preview-slack", p.slack_html);
    document.getElementById("slack-json").textContent = p.slack_json;
    document.getElementById("pagerduty-json").textContent = p.pagerduty_json;
    document.getElementById("email-subject").textContent = p.email_subject;
    frame("preview-email", p.email_html);
    document.getElementById("email-text").textContent = p.email_text;
  }

  function show(ans) {
    last = ans;
    showDiagnostics(ans.diagnostics);
    document.getElementById("rule-yaml").value = ans.rule_yaml;
    document.getElementById("save-test").disabled = !ans.test_yaml;
    var errors = ans.diagnostics.filter(function (d) { return d.severity !== "warning"; }).length;
    if (ans.errors) {
      status.textContent = "The rule does not load: " + errors + " error" + (errors === 1 ? "" : "s") + " to fix.";
    } else if (ans.refused) {
      status.textContent = ans.refused;
    } else if (ans.failed) {
      status.textContent = "Routing failed: " + ans.failed;
    } else {
      status.textContent = ans.matched ? "Matches: the rule matches the payload." : "No match: the rule does not match the payload.";
    }
    showEvents(ans);
    showPreviews(ans);
  }

  // The tabs move with the arrow keys, as ARIA's tabs pattern has it.
  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
  function select(tab) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
  }
  tabs.forEach(function (t, i) {
    t.addEventListener("click", function () { select(t); });
    t.addEventListener("keydown", function (ev) {
      var next = ev.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : ev.key === "ArrowLeft" ? tabs[(i + tabs.length - 1) % tabs.length] : null;
      if (next) { ev.preventDefault(); select(next); next.focus(); }
    });
  });

  document.getElementById("copy-rule").addEventListener("click", function () {
    var area = document.getElementById("rule-yaml");
    area.focus();
    area.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(function () { status.textContent = "The rule's YAML is copied."; },
        function () { status.textContent = "Select all and copy the rule's YAML below."; });
    } else {
      status.textContent = "The rule's YAML is selected below: copy it with Ctrl+C.";
    }
  });

  document.getElementById("save-test").addEventListener("click", function () {
    if (!last || !last.test_yaml) { return; }
    var a = el("a", { href: URL.createObjectURL(new Blob([last.test_yaml], { type: "application/yaml" })), download: last.test_file_name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    status.textContent = "Saved " + last.test_file_name + ": run it with wabarouter test.";
  });

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(timer); run(); });
  run();
})();
