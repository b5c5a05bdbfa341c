// The Denoising page's digits at every noise level, swapped in the browser while the
// slider moves: the server sends all 21 levels once (one sprite PNG and the answers), so a
// drag sends nothing to the server and each position shows at the display's frame rate.
// The "accuracy against noise" chart is drawn here too, so its markers follow the slider.

const states = new WeakMap();
const SVG = "http://www.w3.org/2000/svg";

function element(tag, attrs = {}, text = "") {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function interp(xs, ys, x) {
  // Linear interpolation over the known (non-null) points; null before the first.
  const known = xs.map((v, i) => [v, ys[i]]).filter(([, y]) => y !== null && y !== undefined);
  if (!known.length || x < known[0][0]) return null;
  for (let i = 1; i < known.length; i += 1) {
    if (x <= known[i][0]) {
      const [x0, y0] = known[i - 1];
      const [x1, y1] = known[i];
      return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0 || 1);
    }
  }
  return known[known.length - 1][1];
}

function panel(title, curve, column, versions, scale, fixed) {
  // One panel of the chart: a line per version, a dotted line and a diamond per version
  // at the slider's level (moved by update()).
  const w = 360, h = 220, left = 44, right = 10, top = 26, bottom = 36;
  const svg = element("svg:svg", { viewBox: `0 0 ${w} ${h}`, class: "panel", role: "img", "aria-label": title });
  const values = versions.map((v) => curve[column][v.key].map((y) => (y === null ? null : y * scale)));
  const flat = values.flat().filter((y) => y !== null);
  const [lo, hi] = fixed || [Math.floor(Math.min(...flat) / 5) * 5, Math.ceil(Math.max(...flat) / 5) * 5];
  const px = (x) => left + x * (w - left - right);
  const py = (y) => top + (1 - (y - lo) / (hi - lo || 1)) * (h - top - bottom);
  svg.append(element("svg:text", { x: w / 2, y: 16, "text-anchor": "middle", class: "title" }, title));
  const step = fixed ? 25 : 5;  // round ticks: percent in quarters, decibels in fives
  for (let y = lo; y <= hi + 1e-9; y += step) {
    svg.append(element("svg:line", { x1: left, x2: w - right, y1: py(y), y2: py(y), class: "grid" }));
    svg.append(element("svg:text", { x: left - 4, y: py(y) + 4, "text-anchor": "end", class: "tick" }, String(Math.round(y))));
  }
  for (let k = 0; k <= 5; k += 1) {
    svg.append(element("svg:text", { x: px(k / 5), y: h - bottom + 14, "text-anchor": "middle", class: "tick" }, (k / 5).toFixed(1)));
  }
  svg.append(element("svg:text", { x: px(0.5), y: h - 4, "text-anchor": "middle", class: "axis" }, "noise level"));
  const cursor = element("svg:line", { y1: top, y2: h - bottom, class: "cursor" });
  svg.append(cursor);
  const markers = values.map((ys, i) => {
    const points = curve.levels.map((x, j) => (ys[j] === null ? null : `${px(x)},${py(ys[j])}`)).filter(Boolean);
    svg.append(element("svg:polyline", { points: points.join(" "), fill: "none", stroke: versions[i].color, "stroke-width": 2 }));
    const diamond = element("svg:path", { d: "M0,-7 L7,0 L0,7 L-7,0 Z", fill: versions[i].color, class: "marker" });
    svg.append(diamond);
    return { diamond, ys };
  });
  const update = (level) => {
    cursor.setAttribute("x1", px(level));
    cursor.setAttribute("x2", px(level));
    for (const { diamond, ys } of markers) {
      const y = interp(curve.levels, ys, level);
      diamond.style.display = y === null ? "none" : "";
      if (y !== null) diamond.setAttribute("transform", `translate(${px(level)},${py(y)})`);
    }
  };
  return { svg, update };
}

function build(root, data, state) {
  // The rows of digits (one canvas and one caption per digit) and the chart, for one set of digits.
  const rows = root.querySelector(".rows");
  rows.replaceChildren();
  state.cells = [];
  const addRow = (title, kind) => {
    const row = element("div", { class: "row", "data-row": kind });
    const head = element("div", { class: "head" });
    head.innerHTML = title;
    const digits = element("div", { class: "digits" });
    const cells = [];
    for (let d = 0; d < data.n; d += 1) {
      const cell = element("figure", { class: "cell" });
      const canvas = element("canvas", { width: 28, height: 28, role: "img" });
      const mark = element("figcaption", { class: "mark" });
      cell.append(canvas, mark);
      digits.append(cell);
      cells.push({ canvas, context: canvas.getContext("2d"), mark });
    }
    row.append(head, digits);
    rows.append(row);
    return { head, cells };
  };
  state.original = addRow("<b>Original</b> (true label)", "original");
  state.versions = data.versions.map((v) => ({ ...addRow("", v.key), key: v.key, title: v.title }));
  const chart = root.querySelector(".chart");
  chart.replaceChildren();
  state.panels = [];
  if (data.curve) {
    state.panels = [panel("test accuracy (%)", data.curve, "accuracy", data.versions, 100, [0, 100]),
                    panel("PSNR against the clean digit (dB)", data.curve, "psnr", data.versions, 1, null)];
    const legend = element("div", { class: "legend" });
    data.versions.forEach((v, i) => {
      const item = element("span", { class: "item" });
      item.append(element("span", { class: "swatch", style: `background:${v.color}` }), document.createTextNode(v.title));
      legend.append(item);
    });
    chart.append(...state.panels.map((p) => p.svg), legend);
  }
}

function draw(root, data, state) {
  // One frame: every digit at the slider's level, its mark, the row titles and the chart's markers.
  const i = state.index;
  const level = data.levels[i];
  const sprite = state.sprite;
  const paint = (cell, row, d) => {
    cell.context.clearRect(0, 0, 28, 28);
    cell.context.drawImage(sprite, d * 28, row * 28, 28, 28, 0, 0, 28, 28);
  };
  state.original.cells.forEach((cell, d) => {
    if (sprite.complete) paint(cell, 0, d);
    cell.mark.textContent = String(data.labels[d]);
    cell.canvas.setAttribute("aria-label", `original digit ${data.labels[d]}`);
  });
  state.versions.forEach((version, v) => {
    const row = 1 + i * data.versions.length + v;
    version.head.innerHTML = version.key === "seasoned"
      ? `<b>Seasoned</b> at noise ${level.toFixed(2)} (what the ${data.classifier} reads)`
      : `<b>Denoised by the ${version.title}</b> (what the ${data.classifier} reads)`;
    version.cells.forEach((cell, d) => {
      if (sprite.complete) paint(cell, row, d);
      const answer = data.answers[version.key][i][d];
      const right = answer === data.labels[d];
      cell.mark.textContent = `${answer} ${right ? "\u2713" : "\u2717"}`;
      cell.mark.className = `mark ${right ? "right" : "wrong"}`;
      cell.canvas.setAttribute("aria-label", `${version.title} at noise ${level.toFixed(2)}: read as ${answer}`);
    });
  });
  state.panels.forEach((p) => p.update(level));
  const output = root.querySelector("output");
  output.textContent = level.toFixed(2);
  const slider = root.querySelector("input");
  slider.setAttribute("aria-valuetext", `noise level ${level.toFixed(2)}`);
  root.dataset.level = level.toFixed(2);
  root.dataset.frames = String((Number(root.dataset.frames) || 0) + 1);
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".noise-explorer");
  let state = states.get(parentElement);
  if (!state) {
    state = { index: data.start, token: null, pending: false, others: 0 };
    // Other digits: the one control that asks the server (for a new set of 8 digits).
    root.querySelector("button.other").addEventListener("click", () => {
      state.others += 1;
      state.send("other", state.others);
    });
    const slider = root.querySelector("input");
    slider.addEventListener("input", () => {
      state.index = Number(slider.value);
      if (state.pending) return;
      state.pending = true;
      requestAnimationFrame(() => {
        state.pending = false;
        draw(root, state.data, state);
      });
    });
    // The level goes to the server (for the page's link) once the slider rests: "change" comes
    // when a drag is let go or a key moves it, never during a drag; keys held down send the
    // last, and a new drag begun within the pause sends only when it is let go in its turn.
    const rest = () => {
      state.waiting = state.held;  // sent when the new drag is let go
      if (state.held) return;
      const level = state.data.levels[state.index];
      if (level !== state.sent) state.send("level", (state.sent = level));
    };
    const letGo = () => {
      state.held = false;
      if (state.waiting) state.resting = setTimeout(rest, 250);
    };
    slider.addEventListener("pointerdown", () => { state.held = true; });
    window.addEventListener("pointerup", letGo);
    window.addEventListener("pointercancel", letGo);
    state.letGo = letGo;
    slider.addEventListener("change", () => {
      clearTimeout(state.resting);
      state.resting = setTimeout(rest, 250);
    });
    states.set(parentElement, state);
  }
  state.data = data;
  state.send = setStateValue;
  root.style.setProperty("--cell", `${data.factor * 28}px`);
  const slider = root.querySelector("input");
  slider.max = String(data.levels.length - 1);
  slider.value = String(state.index);
  if (state.token !== data.token) {
    // A new set of digits (or a new page load): rebuild, then draw once the sprite is decoded.
    state.token = data.token;
    build(root, data, state);
    state.sprite = new Image();
    state.sprite.onload = () => {
      root.dataset.token = data.token;
      draw(root, state.data, state);
    };
    state.sprite.src = data.sprite;
  }
  draw(root, data, state);
  return () => {
    window.removeEventListener("pointerup", state.letGo);
    window.removeEventListener("pointercancel", state.letGo);
    states.delete(parentElement);
  };
}
