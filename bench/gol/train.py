"""Train GoL: ``python -m bench.gol.train --config codecs/gol/gol-small.toml [--minutes M]``.

Four stages, in order, each resumable: the tokenizer (L1 + MSE + LPIPS on frames), the I-latent
codec (rate in bits per video pixel + lambda x latent MSE, lambdas log-spaced over the quality
levels, tokenizer frozen), the P-latent generator (flow matching on random masks, conditioned on the
codec's decoded latents), and the perceptual decoder (the tokenizer's decoder again, on codec-decoded
and generated latents, with LPIPS, a temporal term and a patch discriminator). Training data is the
config's pack (:mod:`bench.gol.pack`; made from ``[data] clips`` when missing). On CUDA the big
convolutional stages run in bfloat16 autocast. ``--budget STAGE=MIN`` caps a stage's minutes in
this command (the stage then ends at the steps it reached): one GPU lease trains every stage.
Each command runs until the stages are done or ``--minutes`` are spent,
saving ``state.pt`` (weights, optimisers, steps done) in the run folder, so a long training is a
series of short commands, across machines and sessions. Losses go to ``losses.jsonl``. When every
stage is done, the run is *finalised*: the rate ladder and the model card are measured on the
held-out clip, and ``<run name>.pt`` (fp16 weights) and ``MODEL_CARD.md`` are written; ``--export DIR``
copies them (the shipped ones live in ``bench/gol/weights``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..errors import CodecUnavailable, InputError
from ..files import atomic_copy, atomic_path
from ..metrics.psnr import psnr_from_mse
from .combine import single_codec
from .config import STAGES, clips_folder, load_config, pack_folder, training_pixels
from .data import ClipSampler, LatentSampler, latent_statistics
from .discriminator import PatchDiscriminator, hinge_d, hinge_g
from .evaluate import tokenizer_vs_thumbnails
from .losses import lpips_loss
from .generator import ABSENT, GENERATE, KNOWN, WINDOW
from .latent_codec import adapt_state
from .masks import pareto_ladder
from .model import GoLModel
from .pack import MANIFEST, heldout_views, load_pack, pack_config
from .tokenizer import CLEAN, CODED, GENERATED, TIME_STRIDE, latent_states

# [model] keys an --init-from checkpoint may differ in: the generator's sampling temperature (a
# decoding choice, a buffer of the weights: nothing trains again, the card is measured again)
INIT_MAY_CHANGE = ("sample_temperature",)
# ... and a decoder may gain its conditioning (``decoder_condition``: new layers that start at zero)
CONDITION_KEY = "decoder_condition"
LOOK_AHEAD_KEY = "decoder_look_ahead"  # a decoder may gain its look-ahead (it starts at zero), never lose it
# ... and the codec may be made at another ``codec_down`` (a warm start: latent_codec.adapt_state)
CODEC_DOWN_KEY = "codec_down"
# ... and, with --reset generator (it starts from fresh weights), the generator's own keys
GENERATOR_KEYS = ("gen_width", "sample_steps", "sample_temperature")


class Trainer:
    def __init__(self, cfg: dict, out: Path, device: str, init_from: Path | None = None, reset: tuple = ()):
        self.cfg, self.out, self.device = cfg, out, device
        torch.manual_seed(cfg["run"].get("seed", 0))
        self.model = GoLModel(cfg["model"]).to(device)
        self.steps = {s: 0 for s in STAGES}
        # stages ended early (a --budget spent, --finish): {stage: {"at": steps, "config_steps": S}};
        # it holds while the config still asks for S steps (raise them to train on)
        self.ended: dict = {}
        self.opt_state: dict = {}
        self.finalised = False
        self.init_card: dict = {}  # the card of the --init-from checkpoint (its losses, how it was combined)
        self.disc = PatchDiscriminator(self.stage_config("decoder").get("disc_width", 64)).to(device)
        self.disc_opt = torch.optim.AdamW(self.disc.parameters(), lr=self.stage_config("decoder").get("lr", 1e-4),
                                          betas=(0.5, 0.9), weight_decay=0.0)
        self.disc_steps = 0  # the discriminator's updates so far (a fresh one is warmed up: disc_warmup)
        state = out / "state.pt"
        if state.is_file():
            st = torch.load(state, map_location=device, weights_only=False)
            self.model.load_state_dict(st["model"])
            self.steps.update(st["steps"])
            self.ended = st.get("ended", {})
            self.opt_state, self.finalised = st["opt"], st.get("finalised", False)
            self.init_card = st.get("init_card", {})
            if "disc" in st:
                self.disc.load_state_dict(st["disc"])
                self.disc_opt.load_state_dict(st["disc_opt"])
                self.disc_steps = int(st.get("disc_steps", st["steps"].get("decoder", 0)))
        elif init_from:
            self.init_from(init_from, fresh_generator="generator" in reset)
        self.rng = np.random.default_rng(cfg["run"].get("seed", 0) + sum(self.steps.values()))
        d = cfg["data"]
        self.heldout = d.get("heldout", "")
        clips, held = self.load_data()
        self.heldout_frames = held.get(self.heldout)
        self.clips, self.strides = clips, tuple(d.get("strides", [1, 2]))
        self.train_clips = {name: len(c) for name, c in clips.items()}
        self.sampler = ClipSampler(clips, self.strides, seed=int(self.rng.integers(1 << 31)), device=device)
        self._latents: LatentSampler | None = None

    def load_data(self) -> tuple[dict, dict]:
        """The pack's training and held-out clips; the pack is made from ``[data] clips`` first when
        it is missing (the GPU machine gets a pack made here)."""
        folder = pack_folder(self.cfg)
        if not (folder / MANIFEST).is_file():
            print(f"packing the training clips of {clips_folder(self.cfg)} into {folder}", flush=True)
            try:
                pack_config(self.cfg)
            except CodecUnavailable as exc:
                raise InputError(f"{folder}: no training pack, and it cannot be made here ({exc})") from None
        clips, held, manifest = load_pack(folder)
        if self.heldout and self.heldout not in held:
            raise InputError(f"{folder}: the pack holds out {sorted(held) or 'nothing'}, the config {self.heldout} "
                             "(make the pack again: python -m bench.gol.pack --config CONFIG)")
        if manifest.get("pixels") != training_pixels(self.cfg):
            raise InputError(f"{folder}: packed at {manifest.get('pixels')} pixels a frame, the config asks for "
                             f"{training_pixels(self.cfg)} (make the pack again)")
        return clips, held

    def init_from(self, path: Path, fresh_generator: bool = False) -> None:
        """Start from a finalised checkpoint (e.g. the shipped one): its weights and its steps (from its
        card), fresh optimisers. This is how training goes on where only the checkpoint was kept. With
        ``fresh_generator`` (``--reset generator``) its generator is not taken, and the config may
        give the generator another shape (``GENERATOR_KEYS``). A codec of another ``codec_down`` starts
        from the checkpoint's codec, its shared layers kept (:func:`latent_codec.adapt_state`). From a
        checkpoint with several I-latent codecs a one-codec config takes the one of its ``codec_down``
        (else codec 0): the shipped gol-small's 2x codec trains on under ``gol-small-codec2.toml``."""
        try:
            src = GoLModel.load(path, self.device)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if src.extra_codecs and not self.model.extra_codecs:  # the one of its codecs nearest the config's
            src = single_codec(src, src.codec_index(self.model.codec.down))
        may_change = (GENERATOR_KEYS if fresh_generator else INIT_MAY_CHANGE) + (CONDITION_KEY, LOOK_AHEAD_KEY, CODEC_DOWN_KEY)
        mine = {k: v for k, v in self.model.config.items() if k not in may_change}
        if ({k: v for k, v in src.config.items() if k not in may_change} != mine
                or any(src.config.get(k) and not self.model.config.get(k) for k in (CONDITION_KEY, LOOK_AHEAD_KEY))):
            raise InputError(f"{path}: its [model] {src.config} differs from the config's {self.model.config}")
        keep = ("generator.",) if fresh_generator else ("generator.temperature",)  # the config's own
        for key, prefix in ((CONDITION_KEY, "tokenizer.dec_film."), (LOOK_AHEAD_KEY, "tokenizer.dec_next.")):
            if self.model.config.get(key) and not src.config.get(key):
                keep += (prefix,)  # a decoder that gains the part: it starts at zero, decoding as before
        own = {k: v for k, v in self.model.state_dict().items() if k.startswith(keep)}
        theirs = {k: v for k, v in src.state_dict().items() if not k.startswith(keep)}
        if src.codec.down != self.model.codec.down:
            theirs = adapt_state(theirs, src.codec.down, self.model.codec.down)
            own.update({k: v for k, v in self.model.state_dict().items() if k.startswith("codec.") and k not in theirs})
        got = self.model.load_state_dict({**theirs, **own}, strict=False)
        if (set(got.missing_keys) | set(got.unexpected_keys)) - {"generator.temperature"}:
            raise InputError(f"{path}: its weights do not fit the config's [model] ({got})")
        self.steps.update({k: int(v) for k, v in src.card.get("steps", {}).items() if k in self.steps})
        self.init_card = dict(src.card)
        self.load_discriminator(disc_path(path))
        came_with = Path(path).parent / "losses.jsonl"  # a --save-weights folder's log comes along
        if came_with.is_file() and not (self.out / "losses.jsonl").is_file():
            atomic_copy(came_with, self.out / "losses.jsonl")
        self.log(stage="init", checkpoint=str(path), model_id=src.model_id().hex(), steps=self.steps)

    def load_discriminator(self, path: Path) -> None:
        """The discriminator a ``--save-weights`` file came with (``disc_path``), when there is one of
        the config's width; without it the discriminator starts fresh (and is warmed up first)."""
        if not path.is_file():
            return
        try:
            st = torch.load(path, map_location=self.device, weights_only=False)
            disc, disc_opt, disc_steps = st["disc"], st["disc_opt"], int(st["disc_steps"])
        except Exception as exc:  # a truncated or foreign file: say which, keep nothing from it
            raise InputError(f"{path}: not a discriminator saved by --save-weights "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        try:
            self.disc.load_state_dict(disc)
        except RuntimeError as exc:
            print(f"{path}: not used, it does not fit the config's discriminator ({str(exc).splitlines()[0]})", flush=True)
            return
        self.disc_opt.load_state_dict(disc_opt)
        self.disc_steps = disc_steps

    # --- bookkeeping -------------------------------------------------------------------------
    @property
    def checkpoint(self) -> Path:
        """The finalised checkpoint, ``<run name>.pt`` (what ``--export`` ships)."""
        return self.out / f"{self.cfg['run']['name']}.pt"

    def save(self) -> None:
        with atomic_path(self.out / "state.pt") as tmp:
            torch.save({"model": self.model.state_dict(), "steps": self.steps, "ended": self.ended,
                        "opt": self.opt_state, "finalised": self.finalised, "config": self.cfg,
                        "init_card": self.init_card,
                        **self.disc_state()}, tmp)

    def disc_state(self) -> dict:
        """The discriminator, its optimiser and its update count (in state.pt, and beside --save-weights)."""
        return {"disc": self.disc.state_dict(), "disc_opt": self.disc_opt.state_dict(), "disc_steps": self.disc_steps}

    def log(self, **row) -> None:
        with open(self.out / "losses.jsonl", "a") as f:
            f.write(json.dumps({"time": round(time.time(), 1), **row}) + "\n")

    def reset(self, stage: str) -> None:
        """Start ``stage`` again: fresh weights, optimiser and schedule (later stages are not touched)."""
        setattr(self.model, stage, getattr(GoLModel(self.cfg["model"]), stage).to(self.device))
        for name in (stage, "decoder") if stage == "tokenizer" else (stage,):
            self.steps[name] = 0
            self.ended.pop(name, None)
            self.opt_state.pop(name, None)

    def target(self, stage: str) -> int:
        """The steps ``stage`` trains to: the config's, or fewer where it was ended early."""
        steps, e = self.stage_config(stage)["steps"], self.ended.get(stage)
        return min(steps, e["at"]) if e and e["config_steps"] == steps else steps

    def end_stage(self, stage: str) -> None:
        self.ended[stage] = {"at": self.steps[stage], "config_steps": self.stage_config(stage)["steps"]}

    def lam(self, q: torch.Tensor) -> torch.Tensor:
        lo, hi = self.cfg["stage_codec"]["lambdas"]
        return torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * q / (self.model.codec.levels - 1))

    # --- stages ------------------------------------------------------------------------------
    def stage_config(self, stage: str) -> dict:
        return self.cfg.get(f"stage_{stage}", {"steps": 0})

    def params(self, stage: str):
        """The parameters a stage trains (the decoder stage: the tokenizer's decoder alone)."""
        m = self.model
        if stage == "decoder":
            return m.tokenizer.decoder_parameters()
        return {"tokenizer": m.tokenizer, "codec": m.codec, "generator": m.generator}[stage].parameters()

    def autocast(self):
        """bfloat16 autocast for the big convolutional stages on CUDA; nothing on the CPU."""
        if str(self.device).startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def decode_run(self, z: torch.Tensor, states: torch.Tensor | None = None) -> torch.Tensor:
        """Frames (B, 4L, 3, H, W) from runs of L adjacent raw latents (B, L, C, h, w), as ``decode``
        makes them: the first latent decoded as a sequence's start (its own previous latent), the last
        as its end (its own next latent, which only a look-ahead decoder reads); ``states`` (B, L,
        STATE_DIM) says what each latent is (None: clean)."""
        prev = torch.cat([z[:, :1], z[:, :-1]], 1)
        nxt = torch.cat([z[:, 1:], z[:, -1:]], 1) if self.model.tokenizer.dec_next is not None else None
        run_states = None
        if states is not None:
            run_states = torch.cat([states, torch.cat([states[:, :1], states[:, :-1]], 1)], dim=2).flatten(0, 1)
        y = self.model.tokenizer.decode_raw(z.flatten(0, 1), prev.flatten(0, 1), run_states,
                                            None if nxt is None else nxt.flatten(0, 1))
        return y.reshape(z.shape[0], z.shape[1] * TIME_STRIDE, *y.shape[-3:]).float()

    @property
    def run_length(self) -> int:
        """Adjacent latents a decoder-stage sample decodes: a pair, or with a look-ahead decoder three
        (the middle one then has both neighbours, as inside a file)."""
        return 3 if self.model.tokenizer.dec_next is not None else 2

    def frame_losses(self, y: torch.Tensor, x: torch.Tensor, sc: dict) -> dict:
        """L1 + MSE, ``perceptual`` x LPIPS on the frames after the first group's (decoded with a real
        previous latent), and ``temporal`` x L1 of the frame-to-frame differences (flicker, and the
        seams between groups)."""
        l1, mse = (y - x).abs().mean(), ((y - x) ** 2).mean()
        out = {"loss": l1 + mse, "l1": l1.item(), "psnr": float(psnr_from_mse(mse.item(), 2.0))}
        if sc.get("perceptual", 0):
            lp = lpips_loss(y[:, TIME_STRIDE:].flatten(0, 1), x[:, TIME_STRIDE:].flatten(0, 1))
            out["loss"] = out["loss"] + sc["perceptual"] * lp
            out["lpips"] = lp.item()
        if sc.get("temporal", 0):
            tl = ((y[:, 1:] - y[:, :-1]) - (x[:, 1:] - x[:, :-1])).abs().mean()
            out["loss"] = out["loss"] + sc["temporal"] * tl
            out["temporal"] = tl.item()
        return out

    def step_tokenizer(self, sc: dict) -> dict:
        x = self.sampler.sample(sc["batch"], 2 * TIME_STRIDE, sc["crop"])
        with self.autocast():
            z = self.model.tokenizer.encode_raw(x.flatten(0, 1)).unflatten(0, (x.shape[0], 2))
            out = self.frame_losses(self.decode_run(z), x, sc)
        out["loss"] = out["loss"] + sc.get("latent_l2", 1e-4) * (z.float() ** 2).mean()
        return out

    def decoder_batch(self, sc: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frames (B, 8, 3, H, W), the raw latent pairs (B, 2, C, h, w) the decoder stage trains on and
        what each latent is (B, 2, STATE_DIM): :meth:`decoder_latents`, or with ``window = true``
        :meth:`window_latents`."""
        if sc.get("window"):
            x = self.sampler.sample(sc["batch"], TIME_STRIDE * (WINDOW + 1), sc["crop"])
            return self.window_latents(x, sc)
        x = self.sampler.sample(sc["batch"], 2 * TIME_STRIDE, sc["crop"])
        return (x, *self.decoder_latents(x, sc))

    def states(self, kinds: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """(B, n, STATE_DIM) states of latents of ``kinds`` (B, n) coded at qualities ``q`` (B, n)."""
        return latent_states(kinds.flatten(), q.flatten(), self.model.codec.levels - 1,
                             self.device).unflatten(0, kinds.shape)

    def coding_qualities(self, n: int, sc: dict) -> torch.Tensor:
        """``n`` random codec qualities, uniform in ``[stage_decoder] q = [lo, hi]`` (default: every level)."""
        lo, hi = sc.get("q", [0.0, self.model.codec.levels - 1])
        return lo + torch.rand(n, device=self.device) * (hi - lo)

    @torch.no_grad()
    def coded(self, z: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """Normalised latents ``z`` (N, C, h, w) as decoding has them after coding at qualities ``q`` (N,),
        by the I-latent codec, or for a model with extra codecs by one of them drawn for the batch (the
        generator and decoder learn every codec's output; a one-codec model draws nothing, so its runs
        are as they were)."""
        k = int(self.rng.integers(self.model.num_codecs)) if self.model.extra_codecs else 0
        return self.model.codec_at(k)(z, q)[0]

    @torch.no_grad()
    def decoder_latents(self, x: torch.Tensor, sc: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw latents (B, 2, C, h, w) of frames x (B, 8, 3, H, W) as the decoder will see them, and
        their states (B, 2, STATE_DIM): decoded by the I-latent codec at a random quality
        (``coding_qualities``), an ``uncoded`` share (default a quarter) left uncoded, and in a
        ``generated`` share of the pairs the second latent made by the generator from the first."""
        tok, b = self.model.tokenizer, x.shape[0]
        z = tok.encode(x.flatten(0, 1))
        q = self.coding_qualities(b, sc).repeat_interleave(2)
        coded = self.coded(z, q)
        keep = torch.rand(2 * b, device=self.device) < sc.get("uncoded", 0.25)
        lat = torch.where(keep[:, None, None, None], z, coded).unflatten(0, (b, 2))
        kinds = torch.where(keep, CLEAN, CODED).unflatten(0, (b, 2))
        gen = torch.rand(b, device=self.device) < sc.get("generated", 0.0)
        if gen.any():
            known = torch.zeros(b, WINDOW + 1, *lat.shape[2:], device=self.device)
            known[:, 1] = lat[:, 0]
            flags = torch.tensor([[ABSENT, KNOWN, GENERATE] + [ABSENT] * (WINDOW - 2)] * b, device=self.device)
            made = self.model.generator.sample(known, flags, self.model.config["sample_steps"],
                                               int(self.rng.integers(1 << 62)))[:, 2]
            lat[:, 1] = torch.where(gen[:, None, None, None], made, lat[:, 1])
            kinds[:, 1] = torch.where(gen, GENERATED, kinds[:, 1])
        return tok.denormalise(lat), self.states(kinds, q.unflatten(0, (b, 2)))

    @torch.no_grad()
    def window_latents(self, x: torch.Tensor, sc: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Latents as a file holds them, for frames x (B, 4 (WINDOW+1), 3, H, W): a generator window
        (the latent before it and WINDOW more), every latent coded at one quality per window
        (``coding_qualities``), and in a ``generated`` share of the windows the latents a mask
        pattern leaves out made by the generator from the coded ones on both sides, as decoding makes
        them (:meth:`random_flags`); an ``uncoded`` share of the windows (default none) keeps the
        tokenizer's own latents (what a conditioned decoder must render sharply). Returns one run of
        L = ``run_length`` adjacent latents of each window that holds no absent slot, with its frames:
        (B, 4L, 3, H, W), raw latents (B, L, C, h, w) and their states (B, L, STATE_DIM)."""
        tok, b, n, run = self.model.tokenizer, x.shape[0], WINDOW + 1, self.run_length
        z = tok.encode(x.flatten(0, 1))
        q = self.coding_qualities(b, sc)
        lat = self.coded(z, q.repeat_interleave(n)).unflatten(0, (b, n))
        uncoded = float(sc.get("uncoded", 0.0))
        clean = [bool(uncoded) and self.rng.random() < uncoded for _ in range(b)]  # no draw when none asked
        flags = [[KNOWN] * n if c else self.window_flags(sc) for c in clean]
        if any(clean):
            keep = torch.tensor(clean, device=self.device)[:, None, None, None, None]
            lat = torch.where(keep, z.unflatten(0, (b, n)), lat)
        f = torch.tensor(flags, device=self.device)
        if (f == GENERATE).any():
            made = self.model.generator.sample(lat, f, self.model.config["sample_steps"], int(self.rng.integers(1 << 62)))
            lat = torch.where((f == GENERATE)[:, :, None, None, None], made, lat)
        starts = [int(self.rng.choice([k for k in range(n - run + 1) if ABSENT not in fl[k:k + run]])) for fl in flags]
        pick = torch.tensor(starts, device=self.device)
        rows = torch.arange(b, device=self.device)
        runs = torch.stack([lat[rows, pick + j] for j in range(run)], 1)
        frames = torch.stack([x[i, TIME_STRIDE * k:TIME_STRIDE * (k + run)] for i, k in enumerate(starts)])
        kinds = torch.tensor([[CLEAN] * run if c else [GENERATED if fl[k + j] == GENERATE else CODED for j in range(run)]
                              for c, fl, k in zip(clean, flags, starts)], device=self.device)
        return frames, tok.denormalise(runs), self.states(kinds, q[:, None].expand(b, run))

    def step_decoder(self, sc: dict) -> dict:
        """The paper's second stage, on our budget: the tokenizer's decoder learns to make frames
        from latents as the decoder will have them (:meth:`decoder_latents`), with the frame losses
        and, from step ``disc_start`` on, ``adversarial`` x the hinge loss of a patch discriminator
        trained alongside; everything else frozen."""
        x, z, st = self.decoder_batch(sc)
        with self.autocast():
            y = self.decode_run(z, st)
            out = self.frame_losses(y, x, sc)
            if sc.get("adversarial", 0) and self.steps["decoder"] >= sc.get("disc_start", 0):
                d_loss = self.disc_update(x, y.detach())
                g = hinge_g(self.disc(y.flatten(0, 1)).float())
                out["loss"] = out["loss"] + sc["adversarial"] * g
                out["d_loss"], out["g_adv"] = d_loss, g.item()
        clean = st[:, :, CLEAN].eq(1).all(1)  # the PSNR of clean pairs and of the others, apart (the log)
        for name, rows in (("psnr_clean", clean), ("psnr_coded", ~clean)):
            if rows.any():
                out[name] = float(psnr_from_mse(((y[rows].detach().float() - x[rows]) ** 2).mean().item(), 2.0))
        return out

    def disc_update(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        """One hinge-loss step of the discriminator on real and decoded frames (B, T, 3, H, W); its loss."""
        self.disc.requires_grad_(True)
        with self.autocast():
            d_loss = hinge_d(self.disc(real.flatten(0, 1)), self.disc(fake.flatten(0, 1)))
        self.disc_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.disc_opt.step()
        self.disc.requires_grad_(False)
        self.disc_steps += 1
        return d_loss.item()

    def warm_discriminator(self, sc: dict, deadline: float) -> None:
        """A fresh discriminator beside a decoder that is already trained (``--init-from`` a
        checkpoint without its discriminator) would push the decoder about while it learns: it first
        trains alone, the decoder frozen, until it has ``disc_warmup`` updates (not decoder steps)."""
        todo = int(sc.get("disc_warmup", 0)) - self.disc_steps
        if todo <= 0 or not sc.get("adversarial", 0):
            return
        t0, acc = time.time(), []
        for _ in range(todo):
            if time.time() >= deadline:
                break
            x, z, st = self.decoder_batch(sc)
            with torch.no_grad(), self.autocast():
                y = self.decode_run(z, st)
            acc.append(self.disc_update(x, y))
            if len(acc) == sc.get("log_every", 50) or self.disc_steps == int(sc["disc_warmup"]):
                self.log(stage="disc_warmup", disc_steps=self.disc_steps, d_loss=round(float(np.mean(acc)), 6),
                         s_per_step=round((time.time() - t0) / len(acc), 3))
                print(f"disc_warmup {self.disc_steps}/{sc['disc_warmup']} d_loss={np.mean(acc):.4g}", flush=True)
                acc, t0 = [], time.time()

    def latent_sampler(self) -> LatentSampler:
        """The training clips encoded once by the (finished) tokenizer, kept in ``latents.pt``."""
        if self._latents is None:
            t0 = time.time()
            cache = self.out / "latents.pt" if self.device == "cpu" else None  # a GPU makes them in seconds
            sc = self.stage_config("codec")
            self._latents = LatentSampler.build(self.model.tokenizer, self.clips, self.strides, self.device,
                                                cache, seed=int(self.rng.integers(1 << 31)),
                                                max_frames=int(sc.get("latent_frames", 0)),
                                                flips=bool(sc.get("latent_flips", True)))
            print(f"latents of the training clips ready in {time.time() - t0:.0f} s", flush=True)
        return self._latents

    @torch.no_grad()
    def latents(self, length: int, sc: dict) -> torch.Tensor:
        """Normalised latents (B, length, C, h, w) of random windows and crops (``crop`` in pixels)."""
        z = self.latent_sampler().sample(sc["batch"], length, sc["crop"] // self.model.space_stride).to(self.device)
        return self.model.tokenizer.normalise(z)

    def step_codec(self, sc: dict) -> dict:
        lat = self.latents(1, sc)[:, 0]
        q = torch.rand(lat.shape[0], device=self.device) * (self.model.codec.levels - 1)
        rec, bits = self.model.codec(lat, q)
        mse = ((rec - lat) ** 2).mean((1, 2, 3))
        bpp = bits / (TIME_STRIDE * sc["crop"] ** 2)
        loss = (bpp + self.lam(q) * mse).mean()
        return {"loss": loss, "bpp": bpp.mean().item(), "latent_mse": mse.mean().item()}

    def step_generator(self, sc: dict) -> dict:
        lat = self.latents(WINDOW + 1, sc)
        b = lat.shape[0]
        with torch.no_grad():
            q = torch.rand(b, device=self.device) * (self.model.codec.levels - 1)
            dec = self.coded(lat.flatten(0, 1), q.repeat_interleave(WINDOW + 1)).unflatten(0, (b, WINDOW + 1))
        flags = torch.tensor([self.random_flags() for _ in range(b)], device=self.device)
        gen = self.model.generator
        flow = gen.loss(lat, dec, flags)
        if not sc.get("regress", 0):
            return {"loss": flow}
        reg = gen.regression_loss(lat, dec, flags, self.model.config["sample_steps"])
        return {"loss": flow + sc["regress"] * reg, "flow": flow.item(), "regress": reg.item()}

    def window_flags(self, sc: dict) -> list[float]:
        """A decoder-stage window's flags: every latent coded, or in a ``generated`` share a mask
        pattern of :meth:`random_flags` that leaves at least one run of ``run_length`` adjacent latents
        without an absent slot."""
        if self.rng.random() >= sc.get("generated", 0.0):
            return [KNOWN] * (WINDOW + 1)
        run = self.run_length
        while True:
            flags = self.random_flags()
            if any(ABSENT not in flags[k:k + run] for k in range(WINDOW + 2 - run)):
                return flags

    def random_flags(self) -> list[float]:
        """A window's flags: mostly the patterns the masks make (any phase), sometimes random."""
        while True:
            if self.rng.random() < 0.7:
                period, phase = int(self.rng.integers(2, 5)), int(self.rng.integers(0, 4))
                win = [KNOWN if (j - phase) % period == 0 else GENERATE for j in range(WINDOW)]
            else:
                win = [KNOWN if self.rng.random() < 0.4 else GENERATE for _ in range(WINDOW)]
            if self.rng.random() < 0.15:  # the end of a sequence
                cut = int(self.rng.integers(1, WINDOW))
                win = win[:cut] + [ABSENT] * (WINDOW - cut)
            if GENERATE in win:
                return [ABSENT if self.rng.random() < 0.1 else KNOWN] + win

    def run_stage(self, stage: str, deadline: float, budget_min: float | None = None) -> bool:
        """Train ``stage`` until its target steps, the ``deadline``, or ``budget_min`` minutes (then
        the stage ends at the steps reached: its target is lowered to them)."""
        sc = {**self.stage_config(stage), "steps": self.target(stage)}
        if self.steps[stage] >= sc["steps"]:
            return True
        if budget_min is not None and budget_min <= 0:  # no minutes: ends where it is (no latents made for it)
            self.end_stage(stage)
            self.log(stage=stage, budget_minutes=budget_min, ended_at=self.steps[stage])
            return True
        if stage in ("tokenizer", "codec") and self.model.extra_codecs:  # (generator, decoder: every codec's output)
            raise InputError(f"{self.cfg['_path']}: the {stage} stage would train on under extra I-latent codecs "
                             f"({'made for its latents' if stage == 'tokenizer' else 'it trains codec 0 alone'}): "
                             "train a one-codec config (--init-from a two-codec checkpoint takes its codec of that "
                             "config's codec_down), then join the codecs (python -m bench.gol.combine)")
        if stage in ("codec", "generator"):
            self.latent_sampler()  # made once, before the stage's own minutes start
        stage_deadline = deadline if budget_min is None else min(deadline, time.time() + 60 * budget_min)
        if stage == "tokenizer" and self.steps["tokenizer"] == 0:
            self.init_linear_path(sc)
        if stage == "codec" and self.steps["codec"] == 0:  # the tokenizer's encoder is final from here on
            self.normalise_latents()
        for p in self.model.parameters():
            p.requires_grad_(False)
        for p in self.params(stage):
            p.requires_grad_(True)
        self.model.train()
        params = list(self.params(stage))
        gains = [p for p in params if p.ndim == 2 and p.shape[0] == self.model.codec.levels and stage == "codec"]
        rest = [p for p in params if all(p is not g for g in gains)]
        # the tokenizer's linear path (a working transform from the start) learns at linear_lr_scale x lr
        lin_ids = {id(p) for p in self.model.tokenizer.lin.parameters()} if self.model.tokenizer.lin is not None else set()
        lin = [p for p in rest if id(p) in lin_ids]
        rest = [p for p in rest if id(p) not in lin_ids]
        groups = ([{"params": rest, "scale": 1.0}] + ([{"params": gains, "scale": 10.0}] if gains else [])
                  + ([{"params": lin, "scale": float(sc.get("linear_lr_scale", 1.0))}] if lin else []))
        opt = torch.optim.AdamW(groups, lr=sc["lr"], weight_decay=0.0)  # the rate-control gains learn faster
        if stage in self.opt_state:
            opt.load_state_dict(self.opt_state[stage])
        fn = getattr(self, f"step_{stage}")
        if stage == "decoder":
            self.warm_discriminator(sc, stage_deadline)
        t0, acc, first = time.time(), {}, self.steps[stage]
        fresh = stage not in self.opt_state  # a new optimiser (also after --init-from) warms up again
        cosine_end, t_start = max(sc["steps"], 1), time.time()
        while self.steps[stage] < sc["steps"] and time.time() < stage_deadline:
            frac = min(1.0, self.steps[stage] / cosine_end)
            if budget_min is not None:  # a time-capped stage decays over its time
                frac = max(frac, min(1.0, (time.time() - t_start) / max(stage_deadline - t_start, 1e-6)))
            warm = min(1.0, (self.steps[stage] - (first if fresh else 0) + 1) / 100)
            for g in opt.param_groups:  # cosine decay after a short warm-up
                g["lr"] = g["scale"] * sc["lr"] * warm * 0.5 * (1 + math.cos(math.pi * frac))
            out = fn(sc)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(self.params(stage), 1.0)
            opt.step()
            self.steps[stage] += 1
            for k, v in out.items():
                acc.setdefault(k, []).append(float(v.detach()) if torch.is_tensor(v) else float(v))
            if self.steps[stage] % sc.get("log_every", 50) == 0 or self.steps[stage] == sc["steps"]:
                row = {k: round(float(np.mean(v)), 6) for k, v in acc.items()}
                self.log(stage=stage, step=self.steps[stage], s_per_step=round((time.time() - t0) / len(acc["loss"]), 3), **row)
                print(f"{stage} {self.steps[stage]}/{sc['steps']} " + " ".join(f"{k}={v:.4g}" for k, v in row.items()), flush=True)
                acc, t0 = {}, time.time()
            if self.steps[stage] % sc.get("save_every", 500) == 0:
                self.opt_state[stage] = opt.state_dict()
                self.save()
        if budget_min is not None and time.time() >= stage_deadline and time.time() < deadline:
            self.end_stage(stage)
            self.log(stage=stage, budget_minutes=budget_min, ended_at=self.steps[stage])
        self.opt_state[stage] = opt.state_dict()
        self.save()
        return self.steps[stage] >= self.target(stage)

    @torch.no_grad()
    def init_linear_path(self, sc: dict) -> None:
        """Start the tokenizer's linear path (``[model] linear_path``) from ``[stage_tokenizer]
        linear_init``: "pca" (the default), the block PCA of groups of four training frames, computed
        here from up to 6 windows of 16 frames of every training clip; a path (relative to the
        config) to a :class:`~bench.gol.lapped.LappedLinear` state dict (what
        ``benchmarks/gol_tokenizer_bounds.py --save-dir`` keeps); or "" (random)."""
        from .lapped import block_pca, clip_windows, frame_groups, pca_init

        lin, how = self.model.tokenizer.lin, sc.get("linear_init", "pca")
        if lin is None or not how:
            return
        t0 = time.time()
        if how == "pca":
            groups = (g for clip in self.clips.values() for win in clip_windows(clip, 6, 16)
                      if len(g := frame_groups(win, TIME_STRIDE, self.device)))
            mean, u = block_pca(groups, self.model.tokenizer.latent_ch, self.model.space_stride,
                                seed=self.cfg["run"].get("seed", 0))
            pca_init(lin, mean, u)
        else:
            path = Path(self.cfg["_path"]).parent / how
            try:
                lin.load_state_dict(torch.load(path, map_location=self.device, weights_only=True))
            except (OSError, RuntimeError) as exc:
                raise InputError(f"{path}: not a linear path for this tokenizer ({str(exc).splitlines()[0][:200]})") from None
        self.log(stage="linear_init", source=how, seconds=round(time.time() - t0, 1))
        print(f"linear path initialised from {how} in {time.time() - t0:.0f} s", flush=True)

    @torch.no_grad()
    def normalise_latents(self) -> None:
        """Per-channel means and scales of the tokenizer's latents of all training clips, so later
        stages see centred latents of unit variance: each channel's own std (``[stage_codec] normalise
        = "channel"``, the default), or one std for all (``"global"``: the root mean variance), which
        keeps the channels' relative energies, so the codec's latent MSE still weighs each channel as
        the frames do (a tokenizer with a linear path concentrates energy in few channels, as a PCA
        does; equal weights would spend bits on the weakest)."""
        tok = self.model.tokenizer
        mode = self.stage_config("codec").get("normalise", "channel")
        mean, std, channel_std = latent_statistics(self.latent_sampler().seqs, mode)
        tok.latent_mean.copy_(mean)
        tok.latent_std.copy_(std)
        self.log(stage="normalise", mode=mode, mean=mean.tolist(), std=std.tolist(), channel_std=channel_std.tolist())

    # --- finalising --------------------------------------------------------------------------
    @torch.no_grad()
    def save_weights(self, path: Path, check_dir: Path | None = None) -> None:
        """The current weights as a checkpoint (fp16, the steps in its card), finalised or not; with
        ``check_dir``, the held-out clip coded on this device for :func:`crossdevice.verify_check`,
        and the tokenizer-alone PSNR against thumbnails logged."""
        from .crossdevice import write_check

        self.model.eval()
        self.model.card = {**self.model.card, "steps": dict(self.steps), "finalised": False,
                           "config": {k: v for k, v in self.cfg.items() if not k.startswith("_")},
                           "device": torch.cuda.get_device_name() if str(self.device).startswith("cuda") else "cpu"}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        with atomic_path(disc_path(path)) as tmp:  # training only, never shipped: --init-from takes it on
            torch.save(self.disc_state(), tmp)
        if check_dir is not None and self.heldout_frames is not None:
            ship = GoLModel.load(path, self.device)  # the weights as saved (fp16-rounded)
            small = heldout_views(self.cfg, self.heldout_frames)[1]
            rows = write_check(ship, small, Path(check_dir))
            row = {"tokenizer_psnr": tokenizer_vs_thumbnails(ship, small), "points": rows}
            self.log(stage="check", **row)
            print(json.dumps(row), flush=True)

    @torch.no_grad()
    def finalise(self) -> None:
        """Measure the rate ladder and the model card on the held-out clip; write the checkpoint and the card."""
        from .model_card import measure_card, write_card

        self.model.eval()
        with torch.no_grad():  # measure the weights as shipped (fp16, see GoLModel.save)
            for t in self.model.state_dict().values():
                if t.is_floating_point():
                    t.copy_(t.half().float())
        if self.heldout_frames is None:
            raise InputError(f"{self.cfg['_path']}: no [data] heldout clip to measure the model card on")
        frames, small = heldout_views(self.cfg, self.heldout_frames)
        self.model.card = measure_card(self.model, frames, small, self.heldout, self.train_clips, self.cfg, self.steps,
                                       self.out / "losses.jsonl")
        # a stage not trained in this run folder: its last losses as the checkpoint it came from had them
        self.model.card["losses"] = {**self.init_card.get("losses", {}), **self.model.card["losses"]}
        if self.model.extra_codecs and "combined_from" in self.init_card:  # which checkpoints its codecs came from
            self.model.card["combined_from"] = self.init_card["combined_from"]
        self.model.card["tokenizer_psnr"] = tokenizer_vs_thumbnails(self.model, small)
        self.model.ladder = pareto_ladder(self.model.card["ladder"])
        self.model.save(self.checkpoint)
        write_card(self.model, self.out / "MODEL_CARD.md", self.checkpoint)
        self.finalised = True
        self.save()


def disc_path(weights: Path) -> Path:
    """Where ``--save-weights W`` keeps the discriminator beside W (``gol.pt`` -> ``gol.disc.pt``)."""
    return Path(weights).with_suffix(".disc.pt")


def parse_budget(text: str) -> dict[str, float]:
    """``tokenizer=4,codec=1`` -> {"tokenizer": 4.0, "codec": 1.0} (minutes per stage)."""
    out = {}
    for part in filter(None, text.split(",")):
        stage, _, minutes = part.partition("=")
        if stage not in STAGES:
            raise InputError(f"--budget: no stage {stage!r} (stages: {', '.join(STAGES)})")
        try:
            out[stage] = float(minutes)
        except ValueError:
            raise InputError(f"--budget: {part!r} is not STAGE=MINUTES") from None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.gol.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--out", type=Path, help="run folder (default: the config's run.out / run.name)")
    p.add_argument("--minutes", type=float, default=9.0, help="stop and save after this long (default 9)")
    p.add_argument("--budget", default="", help="minutes per stage in this command, e.g. tokenizer=4,codec=1: "
                   "a stage that spends them ends at the steps it reached")
    p.add_argument("--finish", action="store_true", help="end every stage at the steps it reached and finalise")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--refinalise", action="store_true", help="measure the ladder and card again")
    p.add_argument("--reset", choices=STAGES[:3], action="append", default=[],
                   help="train this stage again from fresh weights (repeatable)")
    p.add_argument("--init-from", type=Path, help="without a saved state in the run folder, start from this "
                   "checkpoint's weights and steps (e.g. bench/gol/weights/gol-small.pt, or a --save-weights file)")
    p.add_argument("--save-weights", type=Path, help="also write the current weights (fp16, finalised or not) here, "
                   "for --init-from elsewhere: how a GPU run's weights come back")
    p.add_argument("--check-dir", type=Path, help="with --save-weights: code the held-out clip on this device "
                   "and keep the files and decoded frames here, to verify on another device (bench.gol.crossdevice)")
    p.add_argument("--no-finalise", action="store_true", help="do not measure the ladder and card here even when "
                   "every stage is done (a GPU lease: they are measured where the weights will run, with --finish)")
    p.add_argument("--export", type=Path, help="copy <run name>.pt and MODEL_CARD.md here when finalised")
    a = p.parse_args(argv)
    try:
        cfg = load_config(a.config)
        budget = parse_budget(a.budget)
        out = a.out or (a.config.parent / cfg["run"].get("out", "runs") / cfg["run"]["name"])
        out.mkdir(parents=True, exist_ok=True)
        if a.threads:
            torch.set_num_threads(a.threads)
        dev = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
        if dev.startswith("cuda"):
            if not torch.cuda.is_available():
                raise InputError("--device cuda: torch sees no GPU on this machine")
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        deadline = time.time() + 60 * a.minutes
        tr = Trainer(cfg, out, dev, a.init_from, tuple(a.reset))
        for stage in a.reset:
            tr.reset(stage)
        if a.finish:
            for s in STAGES:
                tr.end_stage(s)
        before = dict(tr.steps)
        done = all(tr.run_stage(s, deadline, budget.get(s)) for s in STAGES)
        if tr.steps != before:  # trained further: the ladder and card are measured again
            tr.finalised = False
        if a.save_weights:
            tr.save_weights(a.save_weights, a.check_dir)
        if done and not a.no_finalise and (a.refinalise or not tr.finalised):
            tr.finalise()
        print(json.dumps({"steps": tr.steps, "finalised": tr.finalised, "out": str(out), "checkpoint": str(tr.checkpoint)}))
        if a.export and tr.finalised:
            a.export.mkdir(parents=True, exist_ok=True)
            for f in (tr.checkpoint, out / "MODEL_CARD.md"):
                atomic_copy(f, a.export / f.name)
        return 0
    except InputError as exc:
        print(f"bench.gol.train: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
