"""GoL (Group-of-Latents): our implementation of the extremely-low-bitrate generative video codec of
arXiv 2607.19437, whose authors released no code or weights.

Modules: :mod:`.layers` (building blocks), :mod:`.tokenizer` (causal video autoencoder, 4x temporal,
8x spatial), :mod:`.latent_codec` (hyperprior codec of the I-latents, entropy-coded with
``constriction``'s rANS coder), :mod:`.generator` (flow-matching P-latent generator, seeded
deterministic sampling), :mod:`.masks` (the group masks and the ordered rate knob),
:mod:`.bitstream` (the file format), :mod:`.model` (the three parts together: encode frames to bytes,
decode bytes to frames; a model may carry several I-latent codecs), :mod:`.mode_decision` (the
encoder's choice of mask, quality and codec per sequence), :mod:`.combine` (the codecs of several
checkpoints in one model), :mod:`.pack` (the training data, packed to travel to a GPU machine),
:mod:`.data`, :mod:`.losses`, :mod:`.discriminator`, :mod:`.train` and :mod:`.model_card` (training
and the measured card), :mod:`.evaluate` (the tokenizer against thumbnails), :mod:`.crossdevice`
(files written on one device decoded on another), :mod:`.driver` (the encode/decode process the ``gol`` codec
adapter runs). The shipped checkpoint and its model card are in
``bench/gol/weights/``.
"""

from pathlib import Path

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "gol-small.pt"
