// The Mistakes page's confusion matrix as a grid of buttons: a click, a tap or Enter on a
// cell selects it at once (outlined here) and tells the server, which shows the cell's
// images. (A plotly chart's point selection lagged one tap behind on a touch screen.)

const grids = new WeakMap();

function build(root, data, send) {
  const n = data.names.length;
  root.classList.toggle("large", data.large);
  root.innerHTML = `<div class="across">read as (the model's answer)</div>
    <div class="frame"><div class="down">${data.axis}</div><div class="grid" role="grid"></div></div>`;
  const grid = root.querySelector(".grid");
  grid.style.gridTemplateColumns = `auto repeat(${n}, minmax(0, 1fr))`;
  grid.append(Object.assign(document.createElement("div"), { className: "corner" }));
  data.names.forEach((name) => grid.append(Object.assign(document.createElement("div"), { className: "head col", textContent: name })));
  const cells = [];
  for (let t = 0; t < n; t += 1) {
    grid.append(Object.assign(document.createElement("div"), { className: "head row", textContent: data.names[t] }));
    for (let p = 0; p < n; p += 1) {
      const cell = document.createElement("button");
      cell.type = "button";
      cell.className = "cell";
      cell.dataset.cell = `${t}-${p}`;
      cell.addEventListener("click", () => {
        select(cells, t, p, root);
        send("cell", [t, p]);
      });
      grid.append(cell);
      cells.push(cell);
    }
  }
  return cells;
}

function select(cells, t, p, root) {
  cells.forEach((cell) => cell.setAttribute("aria-pressed", String(cell.dataset.cell === `${t}-${p}`)));
  root.dataset.selected = `${t}-${p}`;
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(".confusion");
  let state = grids.get(parentElement);
  if (!state || state.names !== data.names.join("|") || state.large !== data.large) {
    state = { names: data.names.join("|"), large: data.large, send: setStateValue };
    state.cells = build(root, data, (key, value) => state.send(key, value));
    grids.set(parentElement, state);
  }
  state.send = setStateValue;
  const n = data.names.length;
  state.cells.forEach((cell, i) => {
    const t = Math.floor(i / n), p = i % n;
    const count = data.counts[t][p];
    cell.textContent = t === p || count ? String(count) : "";
    cell.style.background = data.colors[t][p];
    cell.style.color = data.ink[t][p];
    cell.setAttribute("aria-label", data.labels[t][p]);
    cell.title = data.labels[t][p];
  });
  select(state.cells, data.selected[0], data.selected[1], root);
  return () => grids.delete(parentElement);
}
