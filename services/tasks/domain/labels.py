"""Vietnamese labels shown beside codes in the API and the reports."""

from __future__ import annotations

from services.tasks.domain.evaluation import IndicatorStatus
from services.tasks.domain.plan import Comparator
from services.tasks.domain.tasks import TaskStatus

INDICATOR_STATUS = {
    IndicatorStatus.MET: "Đạt",
    IndicatorStatus.NOT_MET: "Chưa đạt",
    IndicatorStatus.NO_DATA: "Chưa có số liệu",
    IndicatorStatus.NO_TARGET: "Không có chỉ tiêu",
}
TASK_STATUS = {
    TaskStatus.NOT_STARTED: "Chưa thực hiện",
    TaskStatus.IN_PROGRESS: "Đang thực hiện",
    TaskStatus.DONE: "Hoàn thành",
    TaskStatus.OVERDUE: "Quá hạn",
}
COMPARATOR = {
    Comparator.AT_LEAST: "Không thấp hơn",
    Comparator.ABOVE: "Cao hơn",
    Comparator.EQUAL: "Đạt mức",
    Comparator.TOP: "Trong nhóm đứng đầu",
    Comparator.NONE: "Không có chỉ tiêu",
}
SOURCE = {"live": "Tự động từ hệ thống (chỉ số {code})", "report": "Báo cáo của đơn vị"}
