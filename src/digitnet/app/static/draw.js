// digitnet drawing app, part 2 of 5: the drawing pad (pen, eraser, size, smoothing), live prediction,
// the top guess under the pad, threshold, saving and the session score.
"use strict";

// ---------- drawing pad ----------
const pad = $("pad");
const ctx = pad.getContext("2d");
const tools = { erase: false, size: 0.065 };  // size: pen width as a fraction of the pad (MNIST-like at 0.065)

// A stroke through the midpoints of its points with quadratic curves: smooth, and it passes near every point.
function drawStroke(stroke) {
  const w = pad.width;
  const pts = stroke.points.map(([x, y]) => [x * w, y * w]);
  ctx.strokeStyle = ctx.fillStyle = stroke.erase ? "#fff" : "#111";
  ctx.lineWidth = stroke.width * w;
  ctx.lineCap = ctx.lineJoin = "round";
  if (pts.length === 1) {
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (let i = 1; i < pts.length - 1; i++) {
    const mx = (pts[i][0] + pts[i + 1][0]) / 2, my = (pts[i][1] + pts[i + 1][1]) / 2;
    ctx.quadraticCurveTo(pts[i][0], pts[i][1], mx, my);
  }
  const end = pts[pts.length - 1];
  ctx.lineTo(end[0], end[1]);
  ctx.stroke();
}

// The test image being drawn over, as dark ink on white paper, scaled to the pad.
const backgroundCanvas = document.createElement("canvas");
backgroundCanvas.width = backgroundCanvas.height = 28;
function setBackground(item) {
  state.background = item;
  if (item) paint(backgroundCanvas, item.image, (v) => { const g = 255 - v; return [g, g, g]; });
  $("pad-note").hidden = !item;
  if (item) $("pad-note-text").textContent = `drawing over test image ${item.index} (label ${item.label})`;
}

function redraw() {
  ctx.fillStyle = "#fff";  // opaque white paper, so the saved PNG looks like the page
  ctx.fillRect(0, 0, pad.width, pad.height);
  if (state.background) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(backgroundCanvas, 0, 0, pad.width, pad.height);
  }
  for (const stroke of state.strokes) drawStroke(stroke);
  const empty = isEmpty();
  $("undo").disabled = state.strokes.length === 0;
  $("clear").disabled = empty;
  updateSaveButton();
}
const isEmpty = () => state.strokes.length === 0 && !state.background;

function padPoint(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  state.drawing = { points: [padPoint(event)], width: tools.size, erase: tools.erase };
  state.strokes.push(state.drawing);
  redraw();
  requestPrediction();
});
pad.addEventListener("pointermove", (event) => {
  if (!state.drawing) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  const points = state.drawing.points;
  for (const e of events.length ? events : [event]) {
    const p = padPoint(e), last = points[points.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) * pad.width >= 1.5) points.push(p);  // drop jitter
  }
  redraw();
  requestPrediction();
});
for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, () => {
    if (!state.drawing) return;
    state.drawing = null;
    requestPrediction(true);
  });
}

function undo() { state.strokes.pop(); redraw(); requestPrediction(true); }
function clearPad() { state.strokes = []; setBackground(null); redraw(); requestPrediction(true); }
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearPad);

function setTool(erase) {
  tools.erase = erase;
  $("pen").setAttribute("aria-pressed", String(!erase));
  $("eraser").setAttribute("aria-pressed", String(erase));
  pad.classList.toggle("erasing", erase);
}
$("pen").addEventListener("click", () => setTool(false));
$("eraser").addEventListener("click", () => setTool(true));
$("brush").addEventListener("input", (event) => {
  tools.size = Number(event.target.value) / 100;
  $("brush-value").textContent = `${Number(event.target.value).toFixed(1)}%`;
});

// ---------- live prediction: at most one request in flight, at most one per 100 ms ----------
const prediction = { inFlight: false, queued: false, timer: null, lastSent: 0 };

function requestPrediction(now = false) {
  if (prediction.inFlight) { prediction.queued = true; return; }
  const wait = now ? 0 : 100 - (performance.now() - prediction.lastSent);
  clearTimeout(prediction.timer);
  if (wait > 0) { prediction.timer = setTimeout(() => requestPrediction(true), wait); return; }
  sendPrediction();
}

async function sendPrediction() {
  if (isEmpty()) { showNothingDrawn(); return; }
  prediction.inFlight = true;
  prediction.queued = false;
  prediction.lastSent = performance.now();
  try {
    const answer = await api("/api/predict", { image: pad.toDataURL("image/png"), threshold: state.threshold });
    if (!isEmpty()) { showAnswer(answer); requestInsides(); }
  } catch (error) {
    setStatus(`prediction failed: ${error.message}`, true);
  } finally {
    prediction.inFlight = false;
    if (prediction.queued) requestPrediction(true);
  }
}

function showNothingDrawn() {
  state.last = null;
  $("answers").classList.add("idle");
  $("answers").querySelectorAll(".model").forEach(clearCard);
  $("seen").getContext("2d").clearRect(0, 0, 28, 28);
  $("top").className = "topguess idle";
  $("top-digit").textContent = "–";
  $("top-verdict").textContent = "draw a digit";
  $("top-model").textContent = "";
  $("top-others").replaceChildren();
  announce("");
  clearInsides();
}

// The first model's answer, big, right under the pad; the other models' as small chips beside it.
function showTop(answer) {
  const [first, ...others] = answer.models;
  const v = verdictOf(first, answer.blank);
  $("top").className = `topguess ${v.kind}`;
  $("top-digit").textContent = v.digit;
  $("top-verdict").textContent = v.text;
  $("top-model").textContent = first.name;
  $("top-others").replaceChildren(...others.map((m) => {
    const o = verdictOf(m, answer.blank);
    const chip = el("span", `chip ${o.kind}`, `${m.name} `);
    chip.append(el("strong", "", o.digit), ` ${o.kind === "sure" ? o.text : o.kind === "rejected" ? "not a digit" : "not sure"}`);
    return chip;
  }));
  announce(answer.models.map((m) => `${m.name}: ${verdictText(verdictOf(m, answer.blank))}`).join(". "));
}
const verdictText = (v) => (v.kind === "sure" ? `${v.digit}, ${v.text}` : v.text);

// Screen readers hear the answers once the drawing settles, not at every move of the pen.
let announceTimer = null;
function announce(text) {
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { if ($("announce").textContent !== text) $("announce").textContent = text; },
    state.drawing ? 1500 : 400);
}

function showAnswer(answer) {
  state.last = answer;
  $("answers").classList.remove("idle");
  paint($("seen"), answer.input, inkOnBlack);
  const cards = $("answers").querySelectorAll(".model");
  answer.models.forEach((m, i) => {
    if (!cards[i]) return;
    fillCard(cards[i], m, { checkSure: true, blank: answer.blank });
    paintSaliency(cards[i].querySelector(".saliency canvas"), answer.input, m.saliency);
  });
  showTop(answer);
}

// ---------- threshold ----------
$("threshold").addEventListener("input", (event) => {
  state.threshold = Number(event.target.value);
  $("threshold-value").textContent = state.threshold.toFixed(2);
  if (state.last) showAnswer(state.last);  // the verdicts change at once; bars stay
});

// ---------- saving and the session score ----------
function updateSaveButton() {
  $("save").disabled = isEmpty() || $("label").value === "";
}
$("label").addEventListener("change", updateSaveButton);
$("save").addEventListener("click", async () => {
  const image = pad.toDataURL("image/png");
  const label = Number($("label").value);
  try {
    const answer = await api("/api/predict", { image, threshold: state.threshold });  // the answer to this drawing
    const saved = await api("/api/save", { image, label });
    const guesses = {};
    for (const m of answer.models) {
      guesses[m.name] = { prediction: m.prediction, confidence: m.confidence, rejected: !!m.not_a_digit };
    }
    state.session.push({ file: saved.file, label, guesses });
    $("save-status").textContent = `Saved ${saved.file} as ${label} (${saved.count} in ${saved.folder})`;
    $("label").value = "";
    clearPad();
    showScore();
  } catch (error) {
    $("save-status").textContent = `Not saved: ${error.message}`;
  }
});

// "right N of M" per model over the drawings saved with a label in this session (a rejected drawing counts wrong).
function showScore() {
  const n = state.session.length;
  $("score-box").hidden = n === 0;
  $("score").replaceChildren(...state.models.map((model) => {
    const right = state.session.filter((s) => s.guesses[model.name] && !s.guesses[model.name].rejected &&
      s.guesses[model.name].prediction === s.label).length;
    const row = el("li", "", `${model.name}: `);
    row.append(el("strong", "", `right ${right} of ${n}`));
    return row;
  }));
}

function sessionCsv() {
  const names = state.models.map((m) => m.name);
  const quote = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const header = ["file", "label", ...names.flatMap((n) => [`${n} guess`, `${n} confidence`, `${n} right`])];
  const rows = state.session.map((s) => [s.file, s.label, ...names.flatMap((n) => {
    const g = s.guesses[n];
    if (!g) return ["", "", ""];
    return [g.rejected ? "not a digit" : g.prediction, g.confidence.toFixed(4), !g.rejected && g.prediction === s.label];
  })]);
  return [header, ...rows].map((r) => r.map(quote).join(",")).join("\n") + "\n";
}
$("download").addEventListener("click", () => {
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([sessionCsv()], { type: "text/csv" }));
  link.download = "digitnet-session.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
});
