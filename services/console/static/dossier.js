// A dossier's timeline for operators: its clock (indicators API), every event, the masked phone (notifier API).
"use strict";
(function () {
  var LABELS = {
    "dossier.submitted": "Nộp hồ sơ", "dossier.accepted": "Tiếp nhận", "dossier.rejected": "Từ chối",
    "dossier.transferred": "Chuyển xử lý", "dossier.supplement_requested": "Yêu cầu bổ sung (tạm dừng)",
    "dossier.supplement_received": "Nhận bổ sung (tiếp tục)", "dossier.payment_requested": "Yêu cầu nộp phí",
    "dossier.paid": "Đã nộp phí", "dossier.rescheduled": "Hẹn lại ngày trả", "dossier.processed": "Có kết quả",
    "dossier.returned": "Trả kết quả", "dossier.withdrawn": "Rút hồ sơ", "dossier.stopped": "Dừng xử lý"
  };
  var code = document.getElementById("dossier").getAttribute("data-code");
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
  var STATUS = {
    submitted: "Đã nộp", accepted: "Đang giải quyết", paused: "Tạm dừng (chờ bổ sung hoặc nộp phí)",
    processed: "Đã có kết quả", returned: "Đã trả kết quả", rejected: "Từ chối", withdrawn: "Đã rút", stopped: "Dừng xử lý"
  };
  var FIELDS = {
    agency: "Cơ quan", officer: "Cán bộ", channel: "Kênh", due_at: "Hạn trả", new_due_at: "Hạn mới", reason: "Lý do",
    to_agency: "Chuyển đến", to_officer: "Cán bộ nhận", delivery: "Hình thức trả", fee_amount: "Phí (đồng)",
    paid_online: "Nộp trực tuyến", result_electronic: "Kết quả điện tử"
  };
  function get(path) {
    return fetch("/api/" + path, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; });
  }
  var base = "indicators/v1/dossiers/" + encodeURIComponent(code);
  Promise.all([get(base), get(base + "/events"), get("notifier/v1/notifications?limit=1&dossier_code=" + encodeURIComponent(code))])
    .then(function (r) {
      var d = r[0], facts = document.getElementById("dossier-facts"), frag = document.createDocumentFragment();
      var phone = r[2] && r[2].length ? r[2][0].recipient : null;
      var rows = d ? [
        ["Trạng thái", STATUS[d.status] || d.status], ["Thủ tục", d.procedure_code], ["Cơ quan", d.agency], ["Cán bộ", d.officer || "–"],
        ["Tiếp nhận", when(d.accepted_at)], ["Hạn ban đầu", when(d.due.original)], ["Hạn gia hạn", when(d.due.extended)],
        ["Hạn hẹn lại", when(d.due.rescheduled)], ["Đang tạm dừng", d.paused ? "có" : "không"],
        ["Quá hạn", d.overdue ? "có" : "không"], ["Số điện thoại (đã che)", phone || "–"]
      ] : [["Không tìm thấy hồ sơ", ""]];
      rows.forEach(function (row) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = row[0]; dd.textContent = row[1]; frag.appendChild(dt); frag.appendChild(dd);
      });
      facts.replaceChildren(frag);
      var body = document.querySelector("#dossier-events tbody"), events = r[1] ? r[1].events : [];
      events.forEach(function (e) {
        var tr = document.createElement("tr");
        [when(e.time), LABELS[e.type] || e.type, Object.keys(e.details).map(function (k) {
          var v = e.details[k];
          return (FIELDS[k] || k) + ": " + (/_at$/.test(k) ? when(v) : v === true ? "có" : v === false ? "không" : v);
        }).join("; ")].forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
        body.appendChild(tr);
      });
    });
})();
