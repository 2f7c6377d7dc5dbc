// digitnet drawing app, part 1 of 4: shared state, helpers, and the per-model answer cards.
// Plain scripts loaded in order by index.html (cards.js, draw.js, testset.js, app.js); no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  models: [],          // from GET /api/models
  threshold: 0.6,
  strokes: [],         // each stroke: [[x, y], ...] in canvas pixels
  drawing: null,       // the stroke being drawn
  last: null,          // last /api/predict answer
  test: { index: 0, size: 0, mistakes: null },
};

// ---------- small helpers ----------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  let data;
  try { data = await response.json(); } catch { data = { error: `HTTP ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

const percent = (p) => (p >= 0.995 ? "100" : (100 * p).toFixed(p < 0.1 ? 1 : 0)) + "%";

// Paint a 28x28 array onto a 28x28 canvas; colour(value, row, col) -> [r, g, b].
function paint(canvas, grid, colour) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const [red, green, blue] = colour(grid[r][c], r, c);
      const i = 4 * (28 * r + c);
      img.data[i] = red; img.data[i + 1] = green; img.data[i + 2] = blue; img.data[i + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

const inkOnBlack = (v) => { const g = Math.round(255 * v); return [g, g, g]; };

// Saliency over the input: paper-grey ink, red where more ink raises the top logit, blue where it lowers it.
function paintSaliency(canvas, input, saliency) {
  let biggest = 0;
  for (const row of saliency) for (const v of row) biggest = Math.max(biggest, Math.abs(v));
  paint(canvas, saliency, (s, r, c) => {
    const base = 255 - 150 * input[r][c];
    const a = biggest > 0 ? Math.min(1, Math.abs(s) / biggest) : 0;
    const hue = s >= 0 ? [220, 38, 38] : [37, 99, 235];
    return hue.map((h) => Math.round(base * (1 - a) + h * a));
  });
}

// ---------- one card per model: guess, ten bars, optional saliency ----------
function makeCard(model, withSaliency) {
  const card = el("article", "model");
  card.dataset.model = model.name;
  const head = el("div", "model-head");
  const accuracy = model.metrics && typeof model.metrics.test_accuracy === "number" ?
    `${(100 * model.metrics.test_accuracy).toFixed(1)}% on test · ` : "";
  head.append(el("span", "name", model.name), el("span", "size", `${accuracy}${model.parameters.toLocaleString()} params`));
  const body = el("div", "model-body");
  const verdict = el("div", "verdict");
  verdict.append(el("span", "guess", "–"), el("span", "confidence", ""));
  const bars = el("div", "bars");
  for (let d = 0; d < 10; d++) {
    const column = el("div", "bar");
    column.title = `digit ${d}`;
    const track = el("div", "track");
    track.append(el("div", "fill"));
    column.append(el("span", "pct", ""), track, el("span", "digit", String(d)));
    bars.append(column);
  }
  body.append(verdict, bars);
  if (withSaliency) {
    const figure = el("figure", "saliency");
    const canvas = el("canvas", "pixels");
    canvas.width = canvas.height = 28;
    figure.append(canvas, el("figcaption", "", "saliency"));
    body.append(figure);
  }
  card.append(head, body);
  return card;
}

// answer: {probabilities, prediction, confidence, correct?}; options: checkSure (drawings: apply the
// threshold), blank (nothing drawn), label (test set: the true digit, underlined). answer.not_a_digit and
// answer.reason come from the model's rejection rule (digitnet.Recognizer).
function fillCard(card, answer, options = {}) {
  const rejected = options.blank || answer.not_a_digit === true;
  const unsure = rejected || answer.confidence < state.threshold;
  card.classList.toggle("unsure", !!options.checkSure && unsure);
  card.classList.toggle("wrong", answer.correct === false);
  card.classList.toggle("right", answer.correct === true);
  const guess = card.querySelector(".guess");
  const confidence = card.querySelector(".confidence");
  if (options.checkSure && rejected) {
    guess.textContent = "?";
    confidence.textContent = answer.reason ? `not a digit (${answer.reason})` : "not a digit";
  } else if (options.checkSure && unsure) {
    guess.textContent = "?";
    confidence.textContent = `not sure — maybe ${answer.prediction} (${percent(answer.confidence)})`;
  } else {
    guess.textContent = String(answer.prediction);
    confidence.textContent = percent(answer.confidence) + (answer.correct === false ? " · wrong" : "");
  }
  card.querySelectorAll(".bar").forEach((bar, d) => {
    const p = answer.probabilities[d];
    bar.classList.toggle("top", d === answer.prediction);
    bar.classList.toggle("truth", d === options.label);
    bar.querySelector(".fill").style.height = `${(100 * p).toFixed(1)}%`;
    bar.querySelector(".pct").textContent = p >= 0.01 ? percent(p) : "";
  });
}

function emptyCards(container, withSaliency) {
  container.replaceChildren(...state.models.map((m) => makeCard(m, withSaliency)));
}
