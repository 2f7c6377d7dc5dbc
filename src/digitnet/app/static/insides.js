// digitnet drawing app, part 3 of 5: the network's insides — every layer's output for the current drawing
// (POST /api/insides): conv feature maps as tiles (click to enlarge), flat layers as bars.
"use strict";

const insides = { inFlight: false, queued: false, timer: null, version: 0 };

// Debounced: a request 250 ms after the last prediction, at most one in flight.
function requestInsides() {
  clearTimeout(insides.timer);
  insides.timer = setTimeout(sendInsides, 250);
}

async function sendInsides() {
  if (insides.inFlight) { insides.queued = true; return; }
  if (isEmpty() || !$("insides-model").value) return;
  insides.inFlight = true;
  insides.queued = false;
  try {
    const answer = await api("/api/insides", { image: pad.toDataURL("image/png"), model: $("insides-model").value });
    if (!isEmpty()) showInsides(answer);
  } catch (error) {
    $("insides-info").textContent = `layer view failed: ${error.message}`;
  } finally {
    insides.inFlight = false;
    if (insides.queued) requestInsides();
  }
}

function clearInsides() {
  clearTimeout(insides.timer);
  $("layers").replaceChildren();
  $("insides-info").textContent = "Draw a digit to see every layer's output.";
}

const fmt = (v) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3));

function layerPanel(layer) {
  const panel = el("section", "layer");
  panel.dataset.index = layer.index;
  panel.append(el("h3", "layer-name", layer.name));
  panel.append(el("p", "layer-meta", ""));
  if (layer.kind === "maps") {
    const maps = el("div", "maps");
    for (let c = 0; c < layer.shown; c++) {
      const button = el("button", "tile");
      button.type = "button";
      button.setAttribute("aria-label", `enlarge map ${c} of layer ${layer.name}`);
      const img = el("img", "pixels");
      img.alt = "";
      button.append(img);
      button.addEventListener("click", () => enlarge(img.src, `layer ${layer.name}, map ${c} ` +
        `(brighter is larger; ${panel.dataset.range})`));
      maps.append(button);
    }
    panel.append(maps);
  } else {
    const canvas = el("canvas", "values");
    canvas.setAttribute("role", "img");
    panel.append(canvas);
  }
  return panel;
}

function drawValues(canvas, values, labelled) {
  const width = Math.max(200, Math.round(canvas.clientWidth || 300));
  const height = (labelled ? 30 : 0) + (window.innerWidth < 600 ? 40 : 56);
  const scale = window.devicePixelRatio || 1;
  canvas.width = width * scale;
  canvas.height = height * scale;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d");
  g.scale(scale, scale);
  const chart = labelled ? height - 18 : height;
  let lo = 0, hi = 0;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  const zero = chart * hi / span;
  const step = width / values.length;
  g.fillStyle = "#f1f3f5";
  g.fillRect(0, 0, width, chart);
  let top = 0;
  values.forEach((v, i) => { if (v > values[top]) top = i; });
  values.forEach((v, i) => {
    g.fillStyle = i === top && labelled ? "#2563eb" : v >= 0 ? "#64748b" : "#cbd5e1";
    const h = Math.abs(v) / span * chart;
    g.fillRect(i * step + (step > 4 ? 1 : 0), v >= 0 ? zero - h : zero, Math.max(1, step - (step > 4 ? 2 : 0)), h);
  });
  g.fillStyle = "#94a3b8";
  g.fillRect(0, zero, width, 1);
  if (labelled) {
    g.fillStyle = "#4b5563";
    g.font = "12px system-ui, sans-serif";
    g.textAlign = "center";
    values.forEach((_, i) => g.fillText(String(i), (i + 0.5) * step, height - 4));
  }
}

function showInsides(answer) {
  const container = $("layers");
  if (container.children.length !== answer.layers.length || container.dataset.model !== answer.model) {
    container.replaceChildren(...answer.layers.map(layerPanel));
    container.dataset.model = answer.model;
  }
  answer.layers.forEach((layer, i) => {
    const panel = container.children[i];
    const range = `range ${fmt(layer.range[0])} to ${fmt(layer.range[1])}`;
    panel.dataset.range = range;
    const cut = layer.shown < layer.total ? `, first ${layer.shown} of ${layer.total} shown` : "";
    panel.querySelector(".layer-meta").textContent = `output ${layer.shape.join("×")} · ${range}${cut}`;
    if (layer.kind === "maps") {
      panel.querySelectorAll(".tile img").forEach((img, c) => { img.src = layer.maps[c]; });
    } else {
      const canvas = panel.querySelector("canvas");
      canvas.setAttribute("aria-label", `${layer.shown} values of layer ${layer.name}, ${range}`);
      drawValues(canvas, layer.values, i === answer.layers.length - 1 && layer.values.length <= 16);  // logits: 0-9
    }
  });
  insides.version += 1;
  container.dataset.version = insides.version;
  $("insides-info").textContent = `${answer.layers.length} layers of ${answer.model} for this drawing` +
    " · maps: brighter is larger, one scale per layer; click a map to enlarge it";
}

$("insides-model").addEventListener("change", () => { clearInsidesPanels(); sendInsides(); });
function clearInsidesPanels() { $("layers").replaceChildren(); }
