// Zhongkong front-end glue. Loaded with `defer`; no inline script anywhere (CSP).
(function () {
  "use strict";
  // Close the user menu after a click elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // The audit drawer closes with its ✕ or Escape.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-drawer]")) {
      var drawer = document.getElementById("drawer");
      if (drawer) drawer.innerHTML = "";
    }
  });
  document.addEventListener("keydown", function (event) {
    var drawer = document.getElementById("drawer");
    if (event.key === "Escape" && drawer) drawer.innerHTML = "";
  });

  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) navigator.clipboard.writeText(source.textContent.trim());
  });

  // "New UUID" buttons: <button data-uuid-for="#input"> fills the input with a random v4 UUID.
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-uuid-for]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-uuid-for"));
    if (!input) return;
    input.value = uuid4();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // <input data-mirror="#other"> takes the other field's value when its form is submitted
  // (the curl import keeps the credential chosen in the builder).
  document.addEventListener("submit", function (event) {
    event.target.querySelectorAll("input[data-mirror]").forEach(function (input) {
      var source = document.querySelector(input.getAttribute("data-mirror"));
      if (source && source.value) input.value = source.value;
    });
  });

  // Catalogue search: ArrowDown from the box (or within the list) moves through the results,
  // ArrowUp back, Enter opens the focused one (a link); Escape returns to the box.
  document.addEventListener("keydown", function (event) {
    var box = event.target.closest ? event.target.closest("[data-listbox]") : null;
    var option = event.target.closest ? event.target.closest("[role=option]") : null;
    var list = box ? document.querySelector(box.getAttribute("data-listbox"))
                   : option ? option.closest("[role=listbox]") : null;
    if (!list) return;
    var options = Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    var at = options.indexOf(option);
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(at + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && option) {
      event.preventDefault();
      if (at > 0) options[at - 1].focus();
      else { var search = document.querySelector("[data-listbox]"); if (search) search.focus(); }
    } else if (event.key === "Escape" && option) {
      var input = document.querySelector("[data-listbox]");
      if (input) input.focus();
    }
  });

  // Query parameters as a name/value grid: <textarea data-kv-grid> keeps the "name=value"
  // lines the server reads; the grid writes them back on every edit and is redrawn when the
  // lines change from elsewhere (a catalogue pick, "Add"). Without script: the lines.
  function kvRows(text) {
    return text.split("\n").filter(function (l) { return l.trim(); }).map(function (line) {
      var at = line.indexOf("=");
      return at < 0 ? [line.trim(), ""] : [line.slice(0, at).trim(), line.slice(at + 1)];
    });
  }
  function kvWrite(area, grid) {
    var lines = [];
    grid.querySelectorAll("tr.kv-row").forEach(function (row) {
      var inputs = row.querySelectorAll("input");
      if (inputs[0].value.trim() || inputs[1].value) lines.push(inputs[0].value.trim() + "=" + inputs[1].value);
    });
    area.value = lines.join("\n");
    area.kvWriting = true;
    area.dispatchEvent(new Event("change", { bubbles: true }));
    area.kvWriting = false;
  }
  function kvRow(area, grid, name, value) {
    var row = document.createElement("tr");
    row.className = "kv-row";
    [[name, area.getAttribute("data-kv-name")], [value, area.getAttribute("data-kv-value")]].forEach(function (pair) {
      var cell = document.createElement("td");
      var input = document.createElement("input");
      input.type = "text"; input.value = pair[0]; input.placeholder = pair[1];
      input.setAttribute("aria-label", pair[1]); input.spellcheck = false; input.autocomplete = "off";
      input.addEventListener("input", function () { kvWrite(area, grid); });
      cell.appendChild(input); row.appendChild(cell);
    });
    var cell = document.createElement("td");
    var remove = document.createElement("button");
    remove.type = "button"; remove.className = "outline secondary small kv-remove"; remove.textContent = "×";
    remove.setAttribute("aria-label", area.getAttribute("data-kv-remove"));
    remove.addEventListener("click", function () { row.remove(); kvWrite(area, grid); });
    cell.appendChild(remove); row.appendChild(cell);
    return row;
  }
  function kvDraw(area, grid) {
    var body = grid.querySelector("tbody");
    body.innerHTML = "";
    kvRows(area.value).forEach(function (pair) { body.appendChild(kvRow(area, grid, pair[0], pair[1])); });
    if (!body.children.length) body.appendChild(kvRow(area, grid, "", ""));
  }
  function kvEnhance(root) {
    (root || document).querySelectorAll("textarea[data-kv-grid]:not([data-kv-ready])").forEach(function (area) {
      area.setAttribute("data-kv-ready", "");
      var grid = document.createElement("div");
      grid.className = "kv-grid"; grid.setAttribute("data-testid", "query-grid");
      var table = document.createElement("table");
      table.appendChild(document.createElement("tbody"));
      var add = document.createElement("button");
      add.type = "button"; add.className = "outline small"; add.textContent = area.getAttribute("data-kv-add");
      add.addEventListener("click", function () {
        var row = kvRow(area, grid, "", "");
        table.tBodies[0].appendChild(row); row.querySelector("input").focus();
      });
      var toggle = document.createElement("button");
      toggle.type = "button"; toggle.className = "linklike small";
      toggle.textContent = area.getAttribute("data-kv-text");
      toggle.addEventListener("click", function () {
        var asText = area.hidden;
        area.hidden = !asText; table.hidden = asText; add.hidden = asText;
        toggle.textContent = area.getAttribute(asText ? "data-kv-table" : "data-kv-text");
        if (!asText) kvDraw(area, grid);
      });
      grid.appendChild(table); grid.appendChild(add); grid.appendChild(toggle);
      area.hidden = true;
      area.after(grid);
      // Lines changed from elsewhere (an "Add" button): redraw; the grid's own writes do not.
      area.addEventListener("change", function () { if (!area.kvWriting && area.hidden) kvDraw(area, grid); });
      kvDraw(area, grid);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { kvEnhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { kvEnhance(event.target); });

  // The console's answer is in view after every send (or export, or save): when the result
  // box is off screen (below a long form on a narrow screen), it is scrolled to.
  document.addEventListener("htmx:afterSettle", function (event) {
    var result = document.getElementById("result");
    var config = event.detail && event.detail.requestConfig;
    var from = config && config.elt;
    if (!result || !from || !from.closest || !(from.closest("form[data-kind-field]") || from.closest("#result"))) return;
    if (config.path && config.path.indexOf("/preview/") >= 0) return;
    var box = result.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight - 120) result.scrollIntoView({ block: "start" });
  });

  // <button data-add-query="name=value"> adds a line to the builder's query box.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-query]");
    if (!button) return;
    var query = document.getElementById("id_query");
    if (!query) return;
    var line = button.getAttribute("data-add-query");
    var name = line.split("=")[0] + "=";
    var lines = query.value.split("\n").filter(function (l) { return l.trim(); });
    if (!lines.some(function (l) { return l.indexOf(name) === 0; })) lines.push(line);
    query.value = lines.join("\n");
    query.dispatchEvent(new Event("change", { bubbles: true }));
    query.focus();
  });

  // Ctrl/Cmd+Enter submits a form marked data-submit-shortcut (the console's Send).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form[data-submit-shortcut]");
    if (!form) return;
    event.preventDefault();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });

  // A request htmx could not get answered (refused, failed, unreachable) replaces what its
  // target showed with why, instead of leaving a stale result in place.
  function said(lang) {
    return lang.indexOf("zh") === 0
      ? { refused: "服务器拒绝了请求（HTTP ", failed: "）。请刷新页面后重试。", offline: "无法连接到中控台，请检查网络后重试。" }
      : { refused: "The server refused the request (HTTP ", failed: "). Reload the page and try again.", offline: "Zhongkong cannot be reached; check the connection and try again." };
  }
  function explain(event, text) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "result") return;
    var box = document.createElement("div");
    box.id = "result"; box.setAttribute("aria-live", "polite");
    var p = document.createElement("p");
    p.className = "flash flash-error"; p.setAttribute("role", "alert");
    p.setAttribute("data-testid", "request-refused"); p.textContent = text;
    box.appendChild(p);
    target.replaceWith(box);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var words = said(document.documentElement.lang || "zh-hans");
    explain(event, words.refused + event.detail.xhr.status + words.failed);
  });
  document.addEventListener("htmx:sendError", function (event) {
    explain(event, said(document.documentElement.lang || "zh-hans").offline);
  });

  // Fields that belong to some kinds of a form only: data-kinds="a b" shows a field for those
  // kinds, data-not-kinds="a" for every other; the form's <select name="kind"> decides (or the
  // field the form names in data-kind-field: the console's body type).
  function kindField(form) {
    return (form && form.getAttribute("data-kind-field")) || "kind";
  }
  function syncKinds(form) {
    var kind = form && form.querySelector("[name=" + kindField(form) + "]");
    if (!kind) return;
    form.querySelectorAll("[data-kinds], [data-not-kinds]").forEach(function (el) {
      var only = el.getAttribute("data-kinds"), not = el.getAttribute("data-not-kinds");
      el.hidden = only ? only.split(" ").indexOf(kind.value) < 0 : not.split(" ").indexOf(kind.value) >= 0;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.name === kindField(event.target.form)) syncKinds(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(syncKinds);
  });

  // Live countdowns: <time datetime="..." data-countdown> shows "in 1:23:45" / "expired".
  var lang = document.documentElement.lang || "zh-hans";
  var words = lang.indexOf("zh") === 0 ? { in: "", later: "后", ago: "已过 " } : { in: "in ", later: "", ago: "passed " };
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var target = Date.parse(el.getAttribute("datetime"));
      if (isNaN(target)) return;
      var s = Math.round((target - now) / 1000), abs = Math.abs(s);
      var text = Math.floor(abs / 3600) + ":" + pad(Math.floor(abs % 3600 / 60)) + ":" + pad(abs % 60);
      el.textContent = s >= 0 ? words.in + text + words.later : words.ago + text;
      el.classList.toggle("past", s < 0);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();
