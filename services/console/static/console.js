// DVC Pulse console: reads the services' APIs through /api/... and redraws every few seconds (no page reload).
"use strict";
(function () {
  var STATUS = { met: "Đạt", not_met: "Chưa đạt", no_data: "Chưa có số liệu", no_target: "Không có chỉ tiêu" };
  var $ = function (id) { return document.getElementById(id); };
  var TZ = document.body.getAttribute("data-timezone") || "Asia/Ho_Chi_Minh";
  var FORMAT = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });
  function zoned(d) {  // the parts of instant d in the centre's time zone, whatever the browser's
    var parts = {};
    FORMAT.formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }
  function when(s) {
    if (!s) return "–";
    var p = zoned(new Date(s));
    return p.hour + ":" + p.minute + " " + p.day + "/" + p.month + "/" + p.year;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // Calendar arithmetic on the centre's date (Date.UTC as a plain calendar); the APIs read dates as local midnight.
  function iso(d) { return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function day(y, m, d) { return new Date(Date.UTC(y, m, d)); }
  function periods(kind) {
    var today = zoned(new Date()), y = +today.year, m = +today.month - 1, dd = +today.day, from, to, prevFrom;
    if (kind === "quarter") { var q = m - (m % 3); from = day(y, q, 1); to = day(y, q + 3, 1); prevFrom = day(y, q - 3, 1); }
    else if (kind === "month") { from = day(y, m, 1); to = day(y, m + 1, 1); prevFrom = day(y, m - 1, 1); }
    else if (kind === "30d") { to = day(y, m, dd + 1); from = day(y, m, dd - 29); prevFrom = day(y, m, dd - 59); }
    else { from = day(y, 0, 1); to = day(y + 1, 0, 1); prevFrom = day(y - 1, 0, 1); }
    return { from: iso(from), to: iso(to), prevFrom: iso(prevFrom) };
  }
  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) { if (params[k]) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k])); });
    return parts.length ? "?" + parts.join("&") : "";
  }
  function get(service, path, params) {
    return fetch("/api/" + service + path + query(params || {}), { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { window.location.href = "/dang-nhap"; throw new Error("signed out"); }
      if (!r.ok) throw new Error(service + path + ": HTTP " + r.status);
      return r.json();
    });
  }
  // The indicators API speaks percent (0-100); the leaderboard's on-time rate is a 0..1 ratio.
  function pct(v) { return v === null || v === undefined ? "–" : v.toFixed(1).replace(".", ",") + "%"; }
  function ratioPct(v) { return v === null || v === undefined ? "–" : pct(v * 100); }
  function num(v) { return v === null || v === undefined ? "–" : String(v); }
  function left(s) {
    var ms = new Date(s).getTime() - Date.now(), late = ms < 0, h = Math.floor(Math.abs(ms) / 3600000);
    var text = h >= 24 ? Math.floor(h / 24) + " ngày " + (h % 24) + " giờ" : h + " giờ " + Math.floor((Math.abs(ms) % 3600000) / 60000) + " phút";
    return late ? "quá " + text : "còn " + text;
  }
  function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
  function fill(tableId, rows, draw) {
    var body = $(tableId).tBodies[0], frag = document.createDocumentFragment();
    rows.forEach(function (row) { var tr = document.createElement("tr"); draw(tr, row); frag.appendChild(tr); });
    if (!rows.length) { var tr = document.createElement("tr"); var td = cell(tr, "Không có dữ liệu"); td.colSpan = 9; frag.appendChild(tr); }
    body.replaceChildren(frag);
  }
  function options(selectId, values) {
    var select = $(selectId), chosen = select.value, seen = {};
    Array.prototype.forEach.call(select.options, function (o) { seen[o.value] = true; });
    values.forEach(function (v) { if (!seen[v]) { var o = document.createElement("option"); o.value = v; o.textContent = v; select.appendChild(o); } });
    select.value = chosen;
  }

  function drawCards(now, before) {
    var previous = {};
    before.forEach(function (i) { previous[i.code] = i; });
    var frag = document.createDocumentFragment();
    now.forEach(function (i) {
      var card = document.createElement("article");
      card.className = "card " + i.status;
      card.id = "card-" + i.code;
      card.setAttribute("data-value", i.value === null ? "" : String(i.value));
      var prior = previous[i.code], trend = "";
      if (prior && prior.value !== null && i.value !== null) {
        var delta = i.value - prior.value;
        trend = (delta > 0.05 ? "▲ tăng " : delta < -0.05 ? "▼ giảm " : "■ không đổi ") + (delta === 0 ? "" : pct(Math.abs(delta))) + " so với kỳ trước (" + pct(prior.value) + ")";
      } else { trend = "Kỳ trước: chưa có số liệu"; }
      var parts = [
        ["h3", i.code], ["p.name", i.name], ["p.value", pct(i.value)],
        ["p.ratio", num(i.numerator) + " / " + num(i.denominator)],
        ["p.target", "Mục tiêu: " + (i.target === null ? "không có" : pct(i.target))],
        ["p.badge", STATUS[i.status] || i.status], ["p.trend", trend]
      ];
      parts.forEach(function (p) {
        var tag = p[0].split("."), el = document.createElement(tag[0]);
        if (tag[1]) el.className = tag[1];
        el.textContent = p[1];
        card.appendChild(el);
      });
      frag.appendChild(card);
    });
    $("cards").replaceChildren(frag);
  }
  function drawRanking(id, data) {
    fill(id, data.rows, function (tr, r) {
      cell(tr, r.rank === null ? "–" : String(r.rank)); cell(tr, r.key); cell(tr, String(r.handled));
      cell(tr, ratioPct(r.on_time_rate)); cell(tr, String(r.open_overdue));
    });
  }
  function drawAlerts(data) {
    $("alerts-count").textContent = "(" + data.count + ")";
    fill("alerts", data.items, function (tr, a) {
      var td = document.createElement("td"), link = document.createElement("a");
      link.href = "/ho-so/" + encodeURIComponent(a.dossier_code); link.textContent = a.dossier_code;
      td.appendChild(link); tr.appendChild(td);
      cell(tr, a.kind_label, a.kind); cell(tr, a.procedure_code); cell(tr, a.officer || "–");
      cell(tr, when(a.due_at)); cell(tr, left(a.due_at));
    });
  }
  function drawPlan(rows) {
    fill("plan", rows, function (tr, i) {
      cell(tr, String(i.number)); cell(tr, i.name);
      cell(tr, i.value === null ? "–" : String(i.value) + (i.unit === "%" ? "%" : " " + i.unit));
      cell(tr, i.target ? i.target.text : "–"); cell(tr, i.status_label, i.status);
    });
  }
  function drawTasks(rows) {
    fill("tasks", rows, function (tr, t) {
      cell(tr, t.id); cell(tr, t.title); cell(tr, t.deadline.split("-").reverse().join("/"));
      cell(tr, t.progress_percent + "%"); cell(tr, t.status_label, t.status);
    });
  }

  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    var p = periods($("f-period").value), agency = $("f-agency").value, field = $("f-field").value;
    var scope = { from: p.from, to: p.to, agency: agency, field: field };
    var prior = { from: p.prevFrom, to: p.from, agency: agency, field: field };
    Promise.all([
      get("indicators", "/v1/indicators", scope),
      get("indicators", "/v1/indicators", prior),
      get("indicators", "/v1/leaderboard", { by: "agency", from: p.from, to: p.to, field: field }),
      get("indicators", "/v1/leaderboard", { by: "officer", from: p.from, to: p.to, field: field }),
      get("indicators", "/v1/alerts", { agency: agency, field: field, limit: "100" }),
      get("indicators", "/v1/fields", { from: p.from, to: p.to }),
      get("tasks", "/v1/plan/indicators").catch(function () { return []; }),
      get("tasks", "/v1/tasks").catch(function () { return []; })
    ]).then(function (r) {
      drawCards(r[0], r[1]);
      drawRanking("rank-agency", r[2]); drawRanking("rank-officer", r[3]);
      $("rank-rule").textContent = r[2].ranking_rule + " (min_volume = " + r[2].min_volume + ")";
      options("f-agency", r[2].rows.map(function (row) { return row.key; }));
      options("f-field", r[5].map(function (f) { return f.field; }));
      drawAlerts(r[4]); drawPlan(r[6]); drawTasks(r[7]);
      var live = $("live");
      live.textContent = "Cập nhật lúc " + when(new Date().toISOString()).slice(0, 5) + " · tự làm mới mỗi " + Math.round(window.DVC_REFRESH_MS / 1000) + " giây";
      live.className = "live ok";
      document.body.setAttribute("data-refreshed", String(Date.now()));
    }).catch(function (error) {
      $("live").textContent = "Không tải được dữ liệu: " + error.message; $("live").className = "live error";
    }).then(function () { busy = false; });
  }
  $("filters").addEventListener("change", refresh);
  $("filters").addEventListener("submit", function (e) { e.preventDefault(); refresh(); });
  refresh();
  setInterval(refresh, window.DVC_REFRESH_MS || 5000);
})();
