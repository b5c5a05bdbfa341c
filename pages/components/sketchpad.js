// A square pad for drawing one digit: white ink on black, with pointer events so mouse,
// pen and touch all draw. Undo and Clear sit below the pad, never over it, and act at once
// in the browser, so no press on the pad is ever taken by a toolbar and no stroke drawn
// right after Clear is lost. After each change the strokes go to Python as points in
// [0, 1] (x right, y down), so the model sees the same digit whatever size the pad is shown.

const pads = new WeakMap();

function createPad(root) {
  const canvas = root.querySelector("canvas");
  const context = canvas.getContext("2d");
  const pad = { strokes: [], current: null, version: 0, brush: 22 / 280, send: () => {} };

  const side = () => canvas.clientWidth || 1;

  function redraw() {
    const scale = window.devicePixelRatio || 1;
    const pixels = Math.round(side() * scale);
    if (canvas.width !== pixels) { canvas.width = pixels; canvas.height = pixels; }
    context.fillStyle = "#000";
    context.fillRect(0, 0, pixels, pixels);
    context.strokeStyle = context.fillStyle = "#fff";
    context.lineCap = context.lineJoin = "round";
    context.lineWidth = pad.brush * pixels;
    for (const stroke of pad.strokes.concat(pad.current ? [pad.current] : [])) {
      if (stroke.length === 1) {
        // A tap: a round dot as wide as the pen (a zero-length path draws nothing).
        context.beginPath();
        context.arc(stroke[0][0] * pixels, stroke[0][1] * pixels, context.lineWidth / 2, 0, 2 * Math.PI);
        context.fill();
        continue;
      }
      context.beginPath();
      stroke.forEach(([x, y], i) => (i ? context.lineTo(x * pixels, y * pixels) : context.moveTo(x * pixels, y * pixels)));
      context.stroke();
    }
    root.dataset.strokes = String(pad.strokes.length);
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)];
  }

  function send() {
    pad.version += 1;
    const round = (v) => Math.round(v * 1e4) / 1e4;
    pad.send("drawing", { version: pad.version, strokes: pad.strokes.map((s) => s.map(([x, y]) => [round(x), round(y)])) });
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 && event.pointerType === "mouse") return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    pad.current = [point(event)];
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!pad.current) return;
    // Coalesced events keep fast strokes smooth; points closer than 0.4% of the side add nothing.
    for (const e of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) {
      const p = point(e);
      const last = pad.current[pad.current.length - 1];
      if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= 0.004) pad.current.push(p);
    }
    redraw();
  });
  const finish = () => {
    if (!pad.current) return;
    pad.strokes.push(pad.current);
    pad.current = null;
    redraw();
    send();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  root.querySelector("[data-action=undo]").addEventListener("click", () => {
    if (!pad.strokes.length) return;
    pad.strokes.pop();
    redraw();
    send();
  });
  root.querySelector("[data-action=clear]").addEventListener("click", () => {
    if (!pad.strokes.length) return;
    pad.strokes = [];
    redraw();
    send();
  });
  // The pad follows the space the page gives it (CSS sizes it); redraw at the new size.
  pad.observer = new ResizeObserver(redraw);
  pad.observer.observe(canvas);
  pad.redraw = redraw;
  return pad;
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".sketchpad");
  let pad = pads.get(parentElement);
  if (!pad) {
    pad = createPad(root);
    pads.set(parentElement, pad);
  }
  pad.send = setStateValue;
  pad.brush = data.brush;
  root.querySelector("canvas").setAttribute("aria-label", data.label);
  pad.redraw();
  return () => {
    pad.observer.disconnect();
    pads.delete(parentElement);
  };
}
