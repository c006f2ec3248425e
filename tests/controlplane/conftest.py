"""gotools/controlplane/control-plane's own tests build and start the real control plane: they
run when the real backend is selected (the default), never with --cluster=local."""

from __future__ import annotations

import pytest

from tests.fixtures.cluster import selected_backends


@pytest.fixture(autouse=True)
def real_backend_selected(request: pytest.FixtureRequest) -> None:
    if "real" not in selected_backends(request.config):
        pytest.skip("the real backend is not selected (--cluster=local)")
