"""Benchmark suite for minigrad.

Reference side: deterministic workloads (``workloads``), a hand-written raw
NumPy floor (``floor_numpy``), a PyTorch CPU eager peer (``peer_torch``),
timing/memory helpers (``timing``) and the runner (``python -m benchmarks.run``).
The minigrad column plugs in through ``benchmarks/impl_minigrad.py``; see
``benchmarks/README.md`` for the contract.
"""
