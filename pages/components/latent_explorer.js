// The Latent space page's live views, decoded in the browser from frames the server
// computed once (a sprite PNG): the 2-D map, where the digit under the pointer shows while
// it hovers or drags (blended from the four nearest points of a fine grid); a slider that
// morphs one digit into another; and the conditional VAE's samples, re-drawn with one click.

const states = new WeakMap();

function loadSprite(url) {
  // The sprite's pixels as one grey array (sheet width, height, values 0-255).
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d");
      context.drawImage(image, 0, 0);
      const rgba = context.getImageData(0, 0, image.width, image.height).data;
      const grey = new Uint8Array(image.width * image.height);
      for (let i = 0; i < grey.length; i += 1) grey[i] = rgba[4 * i];
      resolve({ width: image.width, height: image.height, grey });
    };
    image.src = url;
  });
}

function paint(canvas, pixels) {
  // A 28x28 frame (values 0-255) into a canvas of 28x28 pixels (CSS scales it, pixelated).
  const context = canvas.getContext("2d");
  const image = context.createImageData(28, 28);
  for (let i = 0; i < 784; i += 1) {
    const v = pixels[i];
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

function frame(sheet, row, col) {
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y += 1) {
    const start = (row * 28 + y) * sheet.width + col * 28;
    for (let x = 0; x < 28; x += 1) out[y * 28 + x] = sheet.grey[start + x];
  }
  return out;
}

function blended(sheet, grid, z1, z2) {
  // Bilinear blend of the four grid frames around (z1, z2); the grid's row r is z2 = low + r * step.
  const n = grid.size - 1;
  const gx = Math.min(n, Math.max(0, ((z1 - grid.low[0]) / (grid.high[0] - grid.low[0])) * n));
  const gy = Math.min(n, Math.max(0, ((z2 - grid.low[1]) / (grid.high[1] - grid.low[1])) * n));
  const c0 = Math.floor(gx), r0 = Math.floor(gy);
  const c1 = Math.min(n, c0 + 1), r1 = Math.min(n, r0 + 1);
  const fx = gx - c0, fy = gy - r0;
  const corners = [[r0, c0, (1 - fx) * (1 - fy)], [r0, c1, fx * (1 - fy)], [r1, c0, (1 - fx) * fy], [r1, c1, fx * fy]];
  const out = new Float32Array(784);
  for (const [r, c, w] of corners) {
    if (!w) continue;
    const f = frame(sheet, r, c);
    for (let i = 0; i < 784; i += 1) out[i] += w * f[i];
  }
  return out;
}

function digitCanvas(label) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 28;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  return canvas;
}

function mapView(root, data, state) {
  const map = root.querySelector(".map");
  const scatter = map.querySelector("canvas.scatter");
  const digit = root.querySelector(".decoded canvas");
  const label = root.querySelector(".decoded figcaption");
  const { grid, points } = data;
  const margin = 34;
  const toScreen = (z, box) => [margin + ((z[0] - grid.low[0]) / (grid.high[0] - grid.low[0])) * (box.w - margin - 8),
    8 + (1 - (z[1] - grid.low[1]) / (grid.high[1] - grid.low[1])) * (box.h - margin - 8)];
  const toCode = (px, py, box) => [grid.low[0] + ((px - margin) / (box.w - margin - 8)) * (grid.high[0] - grid.low[0]),
    grid.low[1] + (1 - (py - 8) / (box.h - margin - 8)) * (grid.high[1] - grid.low[1])];
  let background = null;
  const box = () => ({ w: scatter.clientWidth || 300, h: scatter.clientHeight || 300 });
  function drawBackground() {
    // The 5,000 test codes, drawn once per size into an offscreen canvas.
    const b = box(), scale = window.devicePixelRatio || 1;
    background = document.createElement("canvas");
    background.width = Math.round(b.w * scale);
    background.height = Math.round(b.h * scale);
    const context = background.getContext("2d");
    context.scale(scale, scale);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, b.w, b.h);
    context.strokeStyle = "#bbb";
    context.strokeRect(margin, 8, b.w - margin - 8, b.h - margin - 8);
    context.fillStyle = "#444";
    context.font = "12px sans-serif";
    context.textAlign = "center";
    for (let k = Math.ceil(grid.low[0]); k <= grid.high[0]; k += 1) context.fillText(String(k), toScreen([k, grid.low[1]], b)[0], b.h - margin + 14);
    context.fillText("z\u2081", (b.w + margin) / 2, b.h - 4);
    context.textAlign = "right";
    for (let k = Math.ceil(grid.low[1]); k <= grid.high[1]; k += 1) context.fillText(String(k), margin - 4, toScreen([grid.low[0], k], b)[1] + 4);
    context.fillText("z\u2082", 14, 16);
    for (let i = 0; i < points.label.length; i += 1) {
      const [x, y] = toScreen([points.x[i], points.y[i]], b);
      context.fillStyle = data.colors[points.label[i]];
      context.globalAlpha = 0.75;
      context.fillRect(x - 1.5, y - 1.5, 3, 3);
    }
    context.globalAlpha = 1;
  }
  function draw() {
    const b = box(), scale = window.devicePixelRatio || 1;
    if (!background || background.width !== Math.round(b.w * scale) || background.height !== Math.round(b.h * scale)) drawBackground();
    scatter.width = background.width;
    scatter.height = background.height;
    const context = scatter.getContext("2d");
    context.drawImage(background, 0, 0);
    context.scale(scale, scale);
    const [x, y] = toScreen(state.z, b);
    context.lineWidth = 3;
    context.strokeStyle = "#fff";
    context.beginPath(); context.moveTo(x - 9, y - 9); context.lineTo(x + 9, y + 9); context.moveTo(x + 9, y - 9); context.lineTo(x - 9, y + 9); context.stroke();
    context.lineWidth = 1.5;
    context.strokeStyle = "#000";
    context.stroke();
    if (state.sheet) paint(digit, blended(state.sheet, grid, state.z[0], state.z[1]));
    const text = `decoded at (${state.z[0].toFixed(2)}, ${state.z[1].toFixed(2)})`;
    label.textContent = text;
    digit.setAttribute("aria-label", text);
    root.dataset.z = `${state.z[0].toFixed(3)},${state.z[1].toFixed(3)}`;
    root.dataset.frames = String((Number(root.dataset.frames) || 0) + 1);
  }
  const schedule = () => {
    if (state.pending) return;
    state.pending = true;
    requestAnimationFrame(() => { state.pending = false; draw(); });
  };
  const follow = (event) => {
    const rect = scatter.getBoundingClientRect();
    const z = toCode(event.clientX - rect.left, event.clientY - rect.top, box());
    state.z = [Math.min(grid.high[0], Math.max(grid.low[0], z[0])), Math.min(grid.high[1], Math.max(grid.low[1], z[1]))];
    schedule();
  };
  scatter.addEventListener("pointermove", (event) => {
    if (event.pointerType === "mouse" || state.dragging) follow(event);
  });
  scatter.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    state.dragging = true;
    scatter.setPointerCapture(event.pointerId);
    follow(event);
  });
  // The point a click, a tap, a drag's end or the arrow keys leave goes to the server (for
  // the page's link), once it rests; hovering sends nothing.
  const keep = () => {
    clearTimeout(state.resting);
    state.resting = setTimeout(() => {
      const point = state.z.map((v) => Math.round(v * 100) / 100);
      if (String(point) !== String(state.kept)) state.send("point", (state.kept = point));
    }, 250);
  };
  const stop = () => {
    if (state.dragging) keep();
    state.dragging = false;
  };
  scatter.addEventListener("pointerup", stop);
  scatter.addEventListener("pointercancel", stop);
  scatter.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, 0.05], ArrowDown: [0, -0.05] }[event.key];
    if (!step) return;
    event.preventDefault();
    state.z = [Math.min(grid.high[0], Math.max(grid.low[0], state.z[0] + step[0])),
      Math.min(grid.high[1], Math.max(grid.low[1], state.z[1] + step[1]))];
    schedule();
    keep();
  });
  new ResizeObserver(schedule).observe(scatter);
  return draw;
}

function morphView(root, data, state) {
  const slider = root.querySelector("input");
  const [from, to, middle] = ["from", "to", "middle"].map((k) => root.querySelector(`.${k} canvas`));
  const caption = root.querySelector(".middle figcaption");
  function draw() {
    if (!state.sheet) return;
    paint(from, frame(state.sheet, 0, 0));
    paint(to, frame(state.sheet, 0, 1));
    paint(middle, frame(state.sheet, 1, state.index));
    const t = state.index / (data.steps - 1);
    caption.textContent = `t = ${t.toFixed(2)}`;
    slider.setAttribute("aria-valuetext", `${Math.round(100 * t)}% of the way from #${data.from} to #${data.to}`);
    root.dataset.t = t.toFixed(3);
    root.dataset.frames = String((Number(root.dataset.frames) || 0) + 1);
  }
  slider.addEventListener("input", () => {
    state.index = Number(slider.value);
    if (state.pending) return;
    state.pending = true;
    requestAnimationFrame(() => { state.pending = false; draw(); });
  });
  return draw;
}

function samplesView(root, data, state) {
  const cells = root.querySelector(".samples");
  const button = root.querySelector("button");
  function draw() {
    if (!state.sheet) return;
    const batch = state.batch % state.batches;
    [...cells.querySelectorAll("canvas")].forEach((canvas, i) => paint(canvas, frame(state.sheet, batch, i)));
    root.dataset.batch = `${state.token}:${batch}`;
    root.dataset.frames = String((Number(root.dataset.frames) || 0) + 1);
  }
  button.addEventListener("click", () => {
    state.batch += 1;
    if (state.batch >= state.batches) {
      // Every precomputed set was shown: the server decodes the next ones (a count of
      // the requests, so each one is new to it).
      state.requests = (state.requests || 0) + 1;
      state.send("more", state.requests);
      state.batch = state.batches - 1;
      return;
    }
    draw();
  });
  return draw;
}

const VIEWS = { map: mapView, morph: morphView, samples: samplesView };

function layout(root, data) {
  // The view's elements, built once per mode.
  root.dataset.mode = data.mode;
  root.style.setProperty("--digit", `${data.factor * 28}px`);
  if (data.mode === "map") {
    root.innerHTML = `<div class="map"><canvas class="scatter" tabindex="0" role="img"
      aria-label="The 2-D latent map: move the pointer over it, or use the arrow keys, to decode a code"></canvas></div>
      <figure class="decoded"><canvas width="28" height="28" role="img"></canvas><figcaption></figcaption></figure>`;
    const legend = document.createElement("div");
    legend.className = "legend";
    data.colors.forEach((color, d) => {
      const item = document.createElement("span");
      item.innerHTML = `<span class="dot" style="background:${color}"></span>${d}`;
      legend.append(item);
    });
    root.append(legend);
  } else if (data.mode === "morph") {
    root.innerHTML = `<div class="strip"><figure class="from"></figure><figure class="middle"></figure><figure class="to"></figure></div>
      <input type="range" min="0" step="1" aria-label="From one digit to the other">`;
    root.querySelector(".from").append(digitCanvas(`test digit #${data.from}`));
    root.querySelector(".middle").append(digitCanvas("the decoded code between them"), document.createElement("figcaption"));
    root.querySelector(".to").append(digitCanvas(`test digit #${data.to}`));
    root.querySelector(".from").append(Object.assign(document.createElement("figcaption"), { textContent: `#${data.from}` }));
    root.querySelector(".to").append(Object.assign(document.createElement("figcaption"), { textContent: `#${data.to}` }));
  } else {
    root.innerHTML = `<div class="samples"></div><button type="button">New samples</button>`;
    const cells = root.querySelector(".samples");
    for (let i = 0; i < data.per_batch; i += 1) cells.append(digitCanvas(`a generated ${data.digit}`));
  }
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".latent-explorer");
  let state = states.get(parentElement);
  if (!state || state.mode !== data.mode || state.layoutKey !== data.layout) {
    layout(root, data);
    state = { mode: data.mode, layoutKey: data.layout, z: data.start || [0, 0], index: data.start_index || 0, batch: 0, token: null };
    state.draw = VIEWS[data.mode](root, data, state);
    states.set(parentElement, state);
  }
  state.send = setStateValue;
  if (state.token !== data.token) {
    state.token = data.token;
    state.batch = 0;
    state.batches = data.batches || 1;
    state.sheet = null;
    if (data.mode === "morph") {
      const slider = root.querySelector("input");
      slider.max = String(data.steps - 1);
      slider.value = String(state.index = Math.min(state.index, data.steps - 1));
    }
    loadSprite(data.sprite).then((sheet) => {
      if (state.token !== data.token) return;
      state.sheet = sheet;
      root.dataset.token = data.token;
      state.draw();
    });
  }
  state.draw();
  return () => states.delete(parentElement);
}
