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
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(s) {
    if (!s) return "–";
    var d = new Date(s);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + " " + pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear();
  }
  function get(path) {
    return fetch("/api/" + path, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; });
  }
  var base = "indicators/v1/dossiers/" + encodeURIComponent(code);
  Promise.all([get(base), get(base + "/events"), get("notifier/v1/notifications?limit=1&dossier_code=" + encodeURIComponent(code))])
    .then(function (r) {
      var d = r[0], facts = document.getElementById("dossier-facts"), frag = document.createDocumentFragment();
      var phone = r[2] && r[2].length ? r[2][0].recipient : null;
      var rows = d ? [
        ["Trạng thái", d.status], ["Thủ tục", d.procedure_code], ["Cơ quan", d.agency], ["Cán bộ", d.officer || "–"],
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
          var v = e.details[k]; return k + ": " + (/_at$/.test(k) ? when(v) : v);
        }).join("; ")].forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
        body.appendChild(tr);
      });
    });
})();
