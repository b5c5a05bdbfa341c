"""The Draw page's answer: each model's predicted digit, large, with its probability and
a bar per digit, beside the 28x28 input the models saw; one HTML block.

Plain HTML and CSS rather than a plotly chart per model: the block is redrawn after
every stroke, and two plotly charts took most of the time from mouse-up to the answer in
Chromium (``core.targets``: "stroke_to_answer_ms").
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from PIL import Image

# Class names are "dl-..." so they cannot clash with Streamlit's own.
CSS = """<style>
.dl-answers { display: flex; gap: 1rem 1.25rem; flex-wrap: wrap; align-items: end; }
.dl-answer { display: grid; justify-items: center; }
.dl-answer .dl-name { font-size: 1rem; opacity: .75; }
.dl-answer .dl-digit { font-size: 6rem; font-weight: 700; line-height: 1; }
.dl-answer .dl-sure { font-size: 1rem; }
.dl-answer img { width: 4.5rem; height: 4.5rem; margin: .75rem 0; image-rendering: pixelated; border-radius: .25rem; }
.dl-bars { display: grid; grid-template-columns: 7rem repeat(10, 1fr); gap: .15rem; align-items: end;
           margin-top: .75rem; max-width: 26rem; }
.dl-bars .dl-model { align-self: center; font-size: .9rem; }
.dl-bar { display: flex; flex-direction: column; align-items: center; }
.dl-bar .dl-track { height: 3rem; width: 100%; display: flex; align-items: end;
                    background: rgba(128, 128, 128, .12); border-radius: .15rem; }
.dl-bar .dl-fill { width: 100%; background: #1f77b4; border-radius: .15rem; min-height: 1px; }
.dl-bar.dl-top .dl-fill { background: #d62728; }
.dl-bar span { font-size: .85rem; }
</style>"""


def _png_base64(digit: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.uint8(np.clip(digit, 0.0, 1.0) * 255)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def answer_html(digit: np.ndarray, answers: dict[str, np.ndarray], tag: str) -> str:
    """The answer block for one drawing.

    Args:
        digit: (28, 28) float32 in [0, 1], the model input (``core.drawing.preprocess.to_mnist``).
        answers: model name -> (10,) class probabilities in [0, 1] (softmax outputs).
        tag: names the drawing the block answers; set as the block's ``data-drawing``
            attribute, so a browser test can wait for the answer to one stroke.

    Returns:
        HTML with its own <style>: the input image, then per model its name, predicted
        digit (6rem) and "NN% sure"; under them one row of ten bars per model, the
        predicted digit's bar in red, each bar's exact percentage in its tooltip.
    """
    cells = [f'<div class="dl-answer"><span class="dl-name">input</span>'
             f'<img src="data:image/png;base64,{_png_base64(digit)}" alt="the 28 by 28 model input">'
             f'<span class="dl-sure">28×28</span></div>']
    bars = []
    for name, p in answers.items():
        p = np.asarray(p, np.float64)
        top, label = int(np.argmax(p)), html.escape(name)
        cells.append(f'<div class="dl-answer" data-model="{label}"><span class="dl-name">{label}</span>'
                     f'<span class="dl-digit">{top}</span><span class="dl-sure">{p[top]:.0%} sure</span></div>')
        bars.append(f'<span class="dl-model">{label}</span>' + "".join(
            f'<div class="dl-bar{" dl-top" if d == top else ""}" title="{d}: {p[d]:.1%}">'
            f'<div class="dl-track"><div class="dl-fill" style="height:{100 * p[d]:.1f}%"></div></div>'
            f'<span>{d}</span></div>' for d in range(10)))
    return (f'{CSS}<div data-drawing="{html.escape(tag)}"><div class="dl-answers">{"".join(cells)}</div>'
            f'<div class="dl-bars" role="img" aria-label="probability of each digit">{"".join(bars)}</div></div>')
