"""Shared test fixtures: one parametrised ``device`` fixture runs every op test
on NumPy ("cpu"), on the CuPy-like test double ("fake") and, when a GPU and CuPy
are present, on CuPy ("cuda"). Hypothesis profiles: dev (default), ci, intense
(select with HYPOTHESIS_PROFILE=intense)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import minigrad
from minigrad import autograd, backends

settings.register_profile("dev", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("intense", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

DEVICES = ["cpu", "fake", pytest.param("cuda", marks=pytest.mark.gpu)]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """Each test using this fixture runs once per backend."""
    name = request.param
    if not backends.is_available(name):
        pytest.skip(f"device {name!r} unavailable here (needs CuPy and an NVIDIA GPU)")
    return name


@pytest.fixture(autouse=True)
def _no_leaked_global_state():
    """Fail a test that leaves grad mode off or the default device/dtype changed."""
    device, dtype = backends.default_device(), minigrad.get_default_dtype()
    yield
    assert autograd.is_grad_enabled(), "test left grad mode disabled"
    assert backends.default_device() == device, "test changed the default device"
    assert minigrad.get_default_dtype() == dtype, "test changed the default dtype"
    assert not minigrad.is_anomaly_enabled(), "test left anomaly mode on"


def host(x) -> np.ndarray:
    """A Tensor's or array's values as a NumPy array (explicit copy)."""
    data = x.data if isinstance(x, minigrad.Tensor) else x
    return backends.to_numpy(data)
