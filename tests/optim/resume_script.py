"""Helper for test_optim_checkpoint.py: run in a *fresh* Python process.

    python resume_script.py full   DEVICE OPT CKPT OUT N M   # N epochs, checkpoint, M more
    python resume_script.py resume DEVICE OPT CKPT OUT N M   # load CKPT, M more epochs
    python resume_script.py resume-no-rng ...                # same, RNG not restored (control)

An optional 8th argument ``mlp`` uses ``layers.MLP`` (with dropout) instead of
the Parameter-only ``TinyNet``.

The run uses dropout (minigrad's backend generator on DEVICE) and shuffled
mini-batches (minigrad's CPU generator), so it consumes random numbers: an
exact resume has to restore them. OUT receives the losses of the last M epochs
and the final parameters.
"""
from __future__ import annotations

import sys

import numpy as np

import minigrad as mg
import optim


class TinyNet:
    """3 → 16 → 1 with ReLU and dropout, built directly from Parameters (duck-typed
    state_dict / load_state_dict, which is all checkpoints need)."""

    def __init__(self, seed: int, device: str) -> None:
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": mg.Parameter((rng.normal(size=(3, 16)) * 0.5).astype(np.float32), device=device),
            "b1": mg.Parameter(np.zeros(16, np.float32), device=device),
            "W2": mg.Parameter((rng.normal(size=(16, 1)) * 0.3).astype(np.float32), device=device),
            "b2": mg.Parameter(np.zeros(1, np.float32), device=device),
        }
        self.training = True

    def parameters(self):
        return list(self.params.values())

    def train(self, mode: bool = True):
        self.training = mode
        return self

    def __call__(self, x):
        p = self.params
        h = (x @ p["W1"] + p["b1"]).relu()
        h = mg.dropout(h, 0.3, training=self.training)
        return h @ p["W2"] + p["b2"]

    def state_dict(self):
        return {k: v.numpy() for k, v in self.params.items()}

    def load_state_dict(self, state):
        with mg.no_grad():
            for k, v in state.items():
                self.params[k].copy_(mg.Tensor(np.asarray(v), device=self.params[k].device))


def loss_fn(model, batch):
    x, y = batch
    return mg.mse_loss(model(x), y)


def make_model(kind: str, seed: int, device: str):
    if kind == "tiny":
        return TinyNet(seed, device)
    import layers                                   # layers.Module: the real thing
    mg.manual_seed(seed)
    return layers.MLP([3, 16, 16, 1], dropout=0.3, device=device)


def make(device: str, opt_name: str, init_seed: int, kind: str = "tiny"):
    data_rng = np.random.default_rng(0)
    X = data_rng.normal(size=(40, 3)).astype(np.float32)
    noise = 0.1 * data_rng.normal(size=(40, 1))
    y = (np.sin(X.sum(axis=1, keepdims=True)) + noise).astype(np.float32)
    batches = optim.Minibatches(X, y, batch_size=8, device=device)  # shuffled by minigrad's rng
    model = make_model(kind, init_seed, device)
    if opt_name == "adamw":
        opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
    elif opt_name == "sgd":
        opt = optim.SGD(model.parameters(), lr=5e-2, momentum=0.9, nesterov=True, weight_decay=1e-3)
    else:
        opt = optim.RMSprop(model.parameters(), lr=1e-2)
    sched = optim.LinearWarmup(opt, 7, after=optim.CosineAnnealingLR(opt, T_max=30, eta_min=1e-4))
    return model, batches, opt, sched


def main() -> None:
    mode, device, opt_name, ckpt, out = sys.argv[1:6]
    n, m = int(sys.argv[6]), int(sys.argv[7])
    kind = sys.argv[8] if len(sys.argv) > 8 else "tiny"
    if mode == "full":
        mg.manual_seed(0)
        model, batches, opt, sched = make(device, opt_name, init_seed=1, kind=kind)
        optim.train(model, loss_fn, batches, opt, epochs=n, scheduler=sched, log_every=None)
        optim.save_checkpoint(ckpt, model, opt, sched, extra={"epoch": n, "note": "halfway"})
        start = n
    else:
        mg.manual_seed(12345)          # deliberately different: the checkpoint decides
        model, batches, opt, sched = make(device, opt_name, init_seed=2, kind=kind)
        extra = optim.load_checkpoint(ckpt, model, opt, sched,
                                      restore_rng=(mode != "resume-no-rng"))
        assert extra == {"epoch": n, "note": "halfway"}, extra
        start = extra["epoch"]
    hist = optim.train(model, loss_fn, batches, opt, epochs=m, start_epoch=start, scheduler=sched,
                       log_every=None)
    params = {k.replace(".", "_"): np.asarray(v) for k, v in model.state_dict().items()}
    assert all(v.dtype == np.float32 for v in params.values())
    np.savez(out, losses=np.array(hist.losses), lrs=np.array(hist.lrs), **params)


if __name__ == "__main__":
    main()
