"""The examples of docs/events.md are valid: a producer copying them gets 202, not 422."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson

from services.ingest.domain.csv_mapping import check_header, row_to_event
from services.ingest.domain.time_rules import TimeRules
from services.ingest.domain.validation import binary_event, check_times, decode_body, mapping_event

DOC = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_json_and_heredoc_examples_validate_when_taken_from_the_guide() -> None:
    bodies = [block for block in _blocks("json") if '"specversion"' in block]
    bodies += re.findall(r"<<'EOF'\n(.*?)\nEOF", DOC, flags=re.DOTALL)

    decoded = [decode_body(None, body.encode(), {}, max_events=1000) for body in bodies]
    for result in decoded:
        check_times(result.events, TimeRules().window(datetime.now(UTC)), result.mode)

    assert len(bodies) == 3
    assert [len(result.events) for result in decoded] == [1, 1, 2]


def test_binary_example_validates_when_its_headers_become_attributes() -> None:
    command = next(block for block in _blocks("bash") if "ce-specversion" in block)
    attributes = dict(re.findall(r'-H "ce-([a-z]+): ([^"]+)"', command))
    data = re.search(r"--data-binary '([^']+)'", command)
    assert data is not None

    event = binary_event(attributes, data[1].encode())

    assert event.type == "vn.gov.dvc.dossier.returned"
    assert event.subject == "000.00.00.H00-260302-0001"


def test_csv_example_maps_to_valid_events_when_read_with_the_documented_mapping() -> None:
    rows = list(csv.reader(io.StringIO(_blocks("csv")[0])))
    header = check_header(rows[0])

    events = [mapping_event(row_to_event(header, row)) for row in rows[1:]]

    assert [event.type for event in events] == ["vn.gov.dvc.dossier.submitted", "vn.gov.dvc.dossier.paid"]
    assert orjson.loads(events[0].model_dump_json())["data"]["applicant"]["name"] == "Trần Văn Bình, thôn Đông"
