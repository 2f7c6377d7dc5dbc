// digitnet drawing app, part 1 of 5: shared state, helpers, verdicts and the per-model answer cards.
// Plain scripts loaded in order by index.html (cards.js, draw.js, insides.js, testset.js, app.js); no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  models: [],          // from GET /api/models
  threshold: 0.6,
  strokes: [],         // each stroke: {points: [[x, y], ...] in 0..1 of the pad, width: fraction of the pad, erase}
  drawing: null,       // the stroke being drawn
  background: null,    // {index, label, image 28x28 0..255}: a test image being drawn over
  last: null,          // last /api/predict answer
  session: [],         // saved drawings: {file, label, guesses: {model: {prediction, confidence, rejected}}}
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

// A probability as a percentage that never rounds up to "100%" unless it is 1: 0.9996 -> "99.9%".
function percent(p) {
  if (p >= 1) return "100%";
  if (p >= 0.1) return (Math.floor(p * 1000) / 10).toFixed(p >= 0.995 ? 1 : 0) + "%";
  return (100 * p).toFixed(1) + "%";
}

// What a model's answer means for the page: {digit, text, kind: "sure"|"unsure"|"rejected"|"blank"}.
// A response may carry "not_a_digit": true and a "reason" (the recognizer's "not a digit" state).
function verdictOf(answer, blank) {
  if (blank) return { digit: "?", text: "nothing drawn", kind: "blank" };
  if (answer.not_a_digit) {
    return { digit: "×", text: `not a digit${answer.reason ? " — " + answer.reason : ""}`, kind: "rejected" };
  }
  if (answer.confidence < state.threshold) {
    return { digit: "?", text: `not sure — maybe ${answer.prediction} (${percent(answer.confidence)})`, kind: "unsure" };
  }
  return { digit: String(answer.prediction), text: percent(answer.confidence), kind: "sure" };
}

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

// ---------- the enlarged view (saliency maps, layer maps) ----------
function enlarge(src, caption) {
  $("zoom-img").src = src;
  $("zoom-caption").textContent = caption;
  const dialog = $("zoom");
  if (!dialog.open) dialog.showModal();
}

// ---------- one card per model: guess, ten bars, saliency ----------
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
  bars.setAttribute("role", "list");
  bars.setAttribute("aria-label", `probabilities of ${model.name}`);
  for (let d = 0; d < 10; d++) {
    const row = el("div", "bar");
    row.setAttribute("role", "listitem");
    const track = el("div", "track");
    track.append(el("div", "fill"));
    row.append(el("span", "digit", String(d)), track, el("span", "pct", ""));
    bars.append(row);
  }
  body.append(verdict, bars);
  if (withSaliency) {
    const figure = el("figure", "saliency");
    const button = el("button", "enlarge");
    button.type = "button";
    button.setAttribute("aria-label", `enlarge the saliency map of ${model.name}`);
    const canvas = el("canvas", "pixels");
    canvas.width = canvas.height = 28;
    button.append(canvas);
    button.addEventListener("click", () => enlarge(canvas.toDataURL(), `saliency of ${model.name}: red, more ink ` +
      "here raises the top guess; blue, more ink here lowers it"));
    figure.append(button, el("figcaption", "", "saliency"));
    body.append(figure);
  }
  card.append(head, body);
  return card;
}

// answer: {probabilities, prediction, confidence, correct?, not_a_digit?, reason?}; options: checkSure (drawings:
// apply the threshold and rejection), blank (nothing drawn), label (test set: the true digit, underlined).
function fillCard(card, answer, options = {}) {
  const verdict = options.checkSure ? verdictOf(answer, options.blank) :
    { digit: String(answer.prediction), text: percent(answer.confidence) + (answer.correct === false ? " · wrong" : ""),
      kind: "sure" };
  card.classList.toggle("unsure", verdict.kind === "unsure" || verdict.kind === "blank");
  card.classList.toggle("rejected", verdict.kind === "rejected");
  card.classList.toggle("wrong", answer.correct === false);
  card.classList.toggle("right", answer.correct === true);
  card.querySelector(".guess").textContent = verdict.digit;
  card.querySelector(".confidence").textContent = verdict.text;
  card.querySelectorAll(".bar").forEach((bar, d) => {
    const p = answer.probabilities[d];
    bar.classList.toggle("top", d === answer.prediction);
    bar.classList.toggle("truth", d === options.label);
    bar.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    bar.querySelector(".pct").textContent = p >= 0.001 ? percent(p) : "";
    bar.setAttribute("aria-label", `digit ${d}: ${percent(p)}`);
  });
}

function clearCard(card) {
  card.classList.remove("unsure", "rejected", "wrong", "right");
  card.querySelector(".guess").textContent = "–";
  card.querySelector(".confidence").textContent = "draw a digit";
  card.querySelectorAll(".fill").forEach((f) => { f.style.width = "0"; });
  card.querySelectorAll(".pct").forEach((p) => { p.textContent = ""; });
  card.querySelectorAll(".bar").forEach((b) => b.classList.remove("top", "truth"));
  const saliency = card.querySelector(".saliency canvas");
  if (saliency) saliency.getContext("2d").clearRect(0, 0, 28, 28);
}

function emptyCards(container, withSaliency) {
  container.replaceChildren(...state.models.map((m) => makeCard(m, withSaliency)));
}
