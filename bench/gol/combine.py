"""One GoL model with the I-latent codecs of several checkpoints::

    python -m bench.gol.combine --base A.pt --codec-from B.pt [--codec-from C.pt ...] --out AB.pt

A GoL checkpoint's codec codes the tokenizer's latents at one scale: a 4x codec (y 4x smaller than
the latent) is cheap at 0.001-0.005 bpp and stops improving above that; a 2x codec goes on to
0.02 bpp but costs more at the lowest rates (docs/gol.md, tenth and twelfth sessions). A model may
carry both (``[model] extra_codecs``): the encoder's mode decision then chooses, per sequence and
rate, the codec as it chooses the mask (:mod:`bench.gol.mode_decision`), and each file's header
names the codec that coded it.

The checkpoints must share every weight but the codec's: each ``--codec-from`` is a run that trained
only its codec (``codec_down`` may differ) from ``--base``'s tokenizer, generator and decoder (e.g.
``--init-from`` the base with ``--budget tokenizer=0,generator=0,decoder=0``; from a base with
several codecs, that run starts from the base's codec of its ``codec_down``). The result keeps the
base's codecs, its codec 0 first; each other's codec takes the place of the base's extra codec of the
same ``codec_down`` (the same codec trained on) or is added after them. It is unfinalised: measure its rate
ladder and model card with ``python -m bench.gol.train --config CFG --init-from AB.pt --finish``, CFG
being the base's config with ``[model] extra_codecs`` (e.g. ``codecs/gol/gol-small.toml``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .model import GoLModel

MAY_DIFFER = ("codec_down", "extra_codecs")  # the [model] keys another checkpoint's codecs may change


def _codec_state(model: GoLModel, index: int) -> dict:
    """The weights of ``model``'s codec ``index``, named as a one-codec model's (``codec.*``)."""
    prefix = "codec." if index == 0 else f"extra_codecs.{index - 1}."
    return {"codec." + k[len(prefix):]: v for k, v in model.state_dict().items() if k.startswith(prefix)}


def _codec_steps(model: GoLModel) -> list:
    """The codec training steps behind each of ``model``'s codecs, as far as its card says."""
    steps = [model.card.get("steps", {}).get("codec", 0)]  # a card that does not say: as many as codec 0's
    return steps + list(model.card.get("combined_from", {}).get("codec_steps", steps * len(model.extra_codecs)))


def single_codec(model: GoLModel, index: int) -> GoLModel:
    """``model`` with only its codec ``index``, as codec 0 (the others left out): the one-codec
    checkpoint a run of that codec would have made, e.g. to train it on (``--init-from``)."""
    config = {k: v for k, v in model.config.items() if k != "extra_codecs"}
    config["codec_down"] = int(model.codec_at(index).down)
    out = GoLModel(config).to(model.device)
    shared = {k: v for k, v in model.state_dict().items() if not k.startswith(("codec.", "extra_codecs."))}
    out.load_state_dict({**shared, **_codec_state(model, index)})
    out.card = {"steps": {**model.card.get("steps", {}), "codec": _codec_steps(model)[index]},
                "losses": {k: v for k, v in model.card.get("losses", {}).items() if not k.startswith("codec")}}
    return out.eval()


def combine(base: GoLModel, others: list[GoLModel], names: list[str] | None = None) -> GoLModel:
    """``base`` with the main codec of each of ``others``: in place of ``base``'s extra codec of the
    same ``codec_down`` where it has one (a codec trained on), else added as its next codec. Raises
    ValueError (naming the checkpoint) when one was not trained on ``base``'s other weights."""
    names = names or [f"checkpoint {i + 1}" for i in range(len(others))]
    codecs = [(base, i) for i in range(base.num_codecs)]  # (model, its codec index) for each codec
    mine = base.state_dict()
    for name, other in zip(names, others):
        if other.extra_codecs:
            raise ValueError(f"{name}: has extra codecs of its own (give a one-codec checkpoint)")
        a = {k: v for k, v in base.config.items() if k not in MAY_DIFFER}
        b = {k: v for k, v in other.config.items() if k not in MAY_DIFFER}
        if a != b:
            diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            raise ValueError(f"{name}: its [model] differs from the base's in {', '.join(diff)}")
        theirs = other.state_dict()
        off = [k for k in mine if not k.startswith(("codec.", "extra_codecs.")) and not torch.equal(mine[k], theirs[k])]
        if off:
            raise ValueError(f"{name}: {len(off)} weights outside the codec differ from the base's (e.g. {off[0]}): "
                             "its codec was not trained on the base's tokenizer and generator")
        same = [j for j in range(1, len(codecs)) if codecs[j][0].codec_at(codecs[j][1]).down == other.codec.down]
        if same:
            codecs[same[0]] = (other, 0)
        elif other.codec.down == base.codec.down:
            raise ValueError(f"{name}: its codec is {other.codec.down}x, as the base's codec 0 is: nothing to add or replace")
        else:
            codecs.append((other, 0))
    config = {**base.config, "extra_codecs": [int(m.codec_at(i).down) for m, i in codecs[1:]]}
    out = GoLModel(config).to(base.device)
    state = {k: v for k, v in mine.items() if not k.startswith("extra_codecs.")}
    for j, (m, i) in enumerate(codecs[1:]):
        state.update({f"extra_codecs.{j}.{k[len('codec.'):]}": v for k, v in _codec_state(m, i).items()})
    out.load_state_dict(state)  # strict: every weight of the combined model comes from one of them
    losses = dict(base.card.get("losses", {}))
    for j, (m, i) in enumerate(codecs[1:], start=1):
        if m is not base and "codec" in m.card.get("losses", {}):
            losses[f"codec {j}"] = m.card["losses"]["codec"]
    out.card = {"steps": dict(base.card.get("steps", {})), "losses": losses,
                "combined_from": {"base": base.model_id().hex(),
                                  "codecs": [m.model_id().hex() for m, _ in codecs[1:]],
                                  "codec_steps": [_codec_steps(m)[i] for m, i in codecs[1:]]}}
    return out.eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gol.combine", description=__doc__.split("\n\n")[0])
    p.add_argument("--base", type=Path, required=True, help="the checkpoint whose codec is codec 0")
    p.add_argument("--codec-from", type=Path, action="append", required=True,
                   help="a checkpoint trained from the base's weights with a codec of its own (repeatable)")
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    try:
        base = GoLModel.load(a.base)
        model = combine(base, [GoLModel.load(x) for x in a.codec_from], [str(x) for x in a.codec_from])
    except ValueError as exc:
        print(f"bench.gol.combine: {exc}", file=sys.stderr)
        return 2
    a.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(a.out)
    print(f"{a.out}: model id {model.model_id().hex()}, codecs "
          f"{', '.join(f'{i} ({model.codec_at(i).down}x)' for i in range(model.num_codecs))}; unfinalised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
