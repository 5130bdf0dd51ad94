"""What each knob does, in the spirit of the course genai-tui grew from. Shown by f1."""

from __future__ import annotations

from genai_tui.engine.clip_refs import CLIP_SCORE_HELP, DEFAULT_CLIP_RULE
from genai_tui.engine.scorers import PICKSCORE_HELP, PICKSCORE_REPO
from genai_tui.knobs import (
    BATCH,
    CLIP_SKIP,
    GUIDANCE,
    LORAS,
    NEGATIVE,
    PROMPT,
    SAMPLER,
    SEED,
    STEPS,
    WIDTH,
    Knob,
)

SHOWN_KNOBS: tuple[Knob, ...] = (
    PROMPT, NEGATIVE, STEPS, GUIDANCE, SEED, WIDTH, BATCH, SAMPLER, CLIP_SKIP, LORAS
)  # fmt: skip
"""The knobs f1 explains, in the order of the panel (height reads as width does)."""


def knob_entry(spec: Knob) -> str:
    """One knob's paragraph: its name, range and default, its one line and why it matters."""
    facts = [spec.bounds_text()] if spec.minimum is not None else []
    if spec.default not in (None, "", ()):
        facts.append(f"default {spec.default}")
    if spec.flags:
        facts.append(f"`{spec.flags[-1]}`")
    shown = f" ({', '.join(facts)})" if facts else ""
    label = "Width / Height" if spec is WIDTH else spec.label
    return f"- **{label}**{shown} – {spec.help} {spec.explain}".rstrip()


def knob_entries() -> str:
    """The f1 help's list of knobs, from their one definition."""
    return "\n".join(knob_entry(spec) for spec in SHOWN_KNOBS)


KNOBS = f"""\
# How an image is made

Stable Diffusion starts from pure random noise and removes a little of it at every **step**,
guided by your prompt. It works in a small *latent* space (64×64×4 numbers for a 512×512 image)
and a decoder (the VAE) turns the final latent into pixels. The preview pane shows, a few times
a second, the image the model predicts it will end with: decoded by the VAE where that costs
little next to a step (the demo model, a fast GPU), else by TAESD (a tiny decoder, if it is on
the machine) or as the latents mapped straight to colours (blocky: 8x smaller in SD 1.5).
**F2** switches.

The prompt is read by a **CLIP text encoder** into 77 token vectors; at every step the UNet looks
at them through cross-attention. Words past the 77th token are cut (you are told which).

# The knobs

{knob_entries()}
"""

LORA = """\
# Training a LoRA (ctrl+t)

A LoRA teaches the model a new subject or style from 5-50 of your images without changing its
weights. Every original weight matrix W stays **frozen**; beside each attention projection of
the UNet (to_q, to_k, to_v, to_out.0) sit two small matrices, and only they learn:

    Y = W X + (alpha / r) · B A X        B: d×r, A: r×k

B starts at zero, so training starts from the unchanged model. The **rank** r is tiny next to
d and k (320-1280 in SD 1.5): a 640×640 projection has 409,600 weights, its rank-4 LoRA
4·(640+640) = 5,120. Over the whole UNet that is about 0.8 M trainable parameters of 860 M
(0.1 %): the file is a few MB, training fits a small GPU, and the base model never changes.
**Alpha** scales the update by alpha/r (alpha = rank: scale 1).

- **LoRA layers** – *attention*: only those four projections (the diffusers example). *transformer*:
  also each transformer block's proj_in, proj_out and feed-forward, as kohya's trainer does by
  default: about twice the parameters (SD 1.5 at rank 4: 1.7 M instead of 0.8 M, 0.2 %), and
  it learns a new shape or subject faster. On the demo model the form starts from a recipe that
  teaches its sample set (assets/sample-images, trigger word *zst*) in about a minute on a CPU.

- **Data folder** – the images; each with a .txt caption beside it, or one **instance prompt**
  for all ("a photo of sks dog": a rare word like *sks* becomes your subject's name).
- **Steps, learning rate, schedule, warmup** – how long and how fast it learns; 500-2000 steps
  at 1e-4 suit most subjects. The loss is noisy by nature (each step draws a random noise
  level): watch the smoothed line and, better, the sample images of each validation round.
- **Batch size, gradient accumulation** – images per optimizer step = batch × accumulation.
- **Resolution** – the side images are cropped to; the model's own size is best.
- **Mixed precision, gradient checkpointing** – less GPU memory for the same result.
- **SNR gamma, noise offset** – a loss weighting that converges faster; darker darks.
- **Checkpoint every** – escape cancels a run and always writes a checkpoint; pick it under
  **Resume** to go on exactly where it stopped (raise Steps to train further).

The finished LoRA lands in the session's loras/ folder in two formats (diffusers, and kohya for
A1111/ComfyUI) and gets a weight slider under the parameters: 0 is off, 1 as trained, negative
inverts it; space switches it on and off. Any other LoRA file can be added there by its path.

**F6** compares the run's checkpoints: every checkpoint as a LoRA at weight 1, over the run's
validation prompts and two seeds, ranked by mean CLIP score, best first. **e** on the ranking
keeps the chosen checkpoint as a LoRA of the session (`genai-tui train export RUN --step N`
does the same); `genai-tui sweep --x checkpoint:RUN=all` sweeps checkpoints against any axis.
"""

KEYS = """\
# Keys

| key | does |
|---|---|
| ctrl+g, F5 | generate |
| escape | cancel the running job (within one step; nothing half-made is kept) |
| ctrl+r | reuse the seed of the selected image |
| ctrl+f | rank the gallery by a text (CLIP) |
| ctrl+o | open a session · ctrl+n new session |
| ctrl+l | show or hide the log |
| F2 | preview: auto, VAE decode, TAESD, latent (from the next generation) |
| ctrl+t | train a LoRA (and back); there ctrl+g starts, escape cancels |
| F6 (training) | compare the run's checkpoints, ranked by CLIP; there e keeps one as a LoRA |
| F3 | the jobs of every session: c cancel, u/d move, r retry or resume |
| F4 | sweep: up to three axes (X, Y, Z) of knobs, one image per cell, then a grid |
| g in the gallery or viewer | the grid of the image's sweep |
| tab / shift+tab | move between prompt, parameters and gallery |
| ←/→ on a slider | change it (shift: bigger steps); type digits and Enter to set a value |
| arrows, Enter in the gallery | choose an image, open it in the viewer |
| ctrl+p | command palette: every action, searchable |
| f1 | this help · ctrl+q quit |

In the viewer: **p** reuse all parameters, **s** reuse the seed, **c** copy the path,
**delete** move the image to the session's trash (asks first), ←/→ previous/next, escape back.

In a sweep's grid: arrows choose a cell, **Enter** opens it in the viewer, **p** reuses its
parameters, **r** lists the cells best first, **[** / **]** (or tab) switch Z pages, **e**
exports a checkpoint cell. ★ marks the best cell of the grid, ▲ the best in its column, ◀ the
best in its row, by the sweep's scorer (CLIP unless another was asked for).

Everything is saved as it happens, in the session folder on the server: close the terminal (or
lose the SSH link) and `genai-tui` opens the same session next time.
"""

RANKING = f"""\
# Ranking with CLIP and PickScore

CLIP was trained on hundreds of millions of image–caption pairs to put an image and its caption
close together in one embedding space. genai-tui embeds each new image and its prompt and shows
the **CLIP score** on its thumbnail (★); the gallery puts the best first.

{CLIP_SCORE_HELP}

- **Best of** – make N images and keep the K best in the gallery; the rest are saved too, marked
  hidden (press **h** in the gallery to show them).
- **Rank by text** (ctrl+f) – score every image against any text, e.g. "a red circle" to find
  the reddest circles; an empty text goes back to each image's own prompt.
- **o** in the gallery switches between best-first and newest-first.
- **s** in the gallery cycles the score it sorts by: **CLIP score** (how well the image matches
  its prompt) or **PickScore** (how much people would prefer it); the title says which. Images
  without a PickScore get one then, if PickScore is on the machine (see below).

The CLIP model used: {DEFAULT_CLIP_RULE}.

## PickScore

{PICKSCORE_HELP}

It scores when asked (`genai-tui sweep --rank pickscore`, `generate --rank pickscore`,
`score --scorer pickscore`), from {PICKSCORE_REPO} in the Hugging Face cache or a folder
(`--pickscore PATH`); genai-tui never downloads it. **On the demo model the demo CLIP stands in
for both**: the demo world has no preference model, so a PickScore ranking there is a CLIP
ranking, and says so; no PickScore is saved.
"""

HELP_MARKDOWN = KNOBS + "\n" + RANKING + "\n" + LORA + "\n" + KEYS
