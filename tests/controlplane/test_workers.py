"""scripts/test's pytest-xdist workers: the real control plane's tests and the docs tests each
run in one worker (one control plane, one fresh clone), the rest anywhere."""

from __future__ import annotations

import pytest

from tests.conftest import worker_group


@pytest.mark.parametrize(
    ("nodeid", "group"),
    [
        ("tests/e2e/test_drift.py::test_edited_secret_is_detected_and_repaired[real]", "real"),
        ("tests/e2e/oracle/test_pipeline.py::test_keys[v0.14-real-rsa-pkcs8]", "real"),
        ("tests/conformance/test_differential.py::test_answers[secret-create]", "real"),
        ("tests/controlplane/test_script.py::test_up_gives_a_working_cluster", "real"),
        ("tests/docs/test_ci.py::test_gitlab_jobs_run_as_written[local]", "docs"),
        ("tests/docs/test_readme.py::test_no_reference_to_the_issue_tracker", "docs"),
        ("tests/e2e/test_drift.py::test_edited_secret_is_detected_and_repaired[local]", None),
        ("tests/e2e/oracle/test_pipeline.py::test_keys[current-local-realistic]", None),
        ("tests/core/test_order.py::test_table_puts_every_secret_write_first", None),
        ("tests/test_cli_main.py::test_version", None),
    ],
)
def test_each_test_goes_to_the_worker_of_what_it_needs(nodeid: str, group: str | None) -> None:
    assert worker_group(nodeid) == group
