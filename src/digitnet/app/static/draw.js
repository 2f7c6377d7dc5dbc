// digitnet drawing app, part 2 of 4: the drawing pad, live prediction, threshold and saving.
"use strict";

// ---------- drawing pad ----------
const pad = $("pad");
const ctx = pad.getContext("2d");
const lineWidth = () => pad.width * 0.065;  // about MNIST's stroke width relative to the digit

function drawStroke(points) {
  ctx.strokeStyle = ctx.fillStyle = "#111";
  ctx.lineWidth = lineWidth();
  ctx.lineCap = ctx.lineJoin = "round";
  if (points.length === 1) {
    ctx.beginPath();
    ctx.arc(points[0][0], points[0][1], lineWidth() / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(points[0][0], points[0][1]);
  for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
  ctx.stroke();
}

function redraw() {
  ctx.fillStyle = "#fff";  // opaque white paper, so the saved PNG looks like the page
  ctx.fillRect(0, 0, pad.width, pad.height);
  for (const stroke of state.strokes) drawStroke(stroke);
  $("undo").disabled = $("clear").disabled = state.strokes.length === 0;
  updateSaveButton();
}

function padPoint(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) * pad.width / rect.width, (event.clientY - rect.top) * pad.height / rect.height];
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  pad.setPointerCapture(event.pointerId);
  state.drawing = [padPoint(event)];
  state.strokes.push(state.drawing);
  redraw();
  requestPrediction();
});
pad.addEventListener("pointermove", (event) => {
  if (!state.drawing) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) state.drawing.push(padPoint(e));
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
function clearPad() { state.strokes = []; redraw(); requestPrediction(true); }
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearPad);

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
  if (state.strokes.length === 0) { showNothingDrawn(); return; }
  prediction.inFlight = true;
  prediction.queued = false;
  prediction.lastSent = performance.now();
  try {
    const answer = await api("/api/predict", { image: pad.toDataURL("image/png"), threshold: state.threshold });
    if (state.strokes.length > 0) showAnswer(answer);
  } catch (error) {
    setStatus(`prediction failed: ${error.message}`, true);
  } finally {
    prediction.inFlight = false;
    if (prediction.queued) requestPrediction(true);
  }
}

function showNothingDrawn() {
  state.last = null;
  const answers = $("answers");
  answers.classList.add("idle");
  answers.querySelectorAll(".model").forEach((card) => {
    card.classList.remove("unsure");
    card.querySelector(".guess").textContent = "–";
    card.querySelector(".confidence").textContent = "draw a digit";
    card.querySelectorAll(".fill").forEach((f) => { f.style.height = "0"; });
    card.querySelectorAll(".pct").forEach((p) => { p.textContent = ""; });
    card.querySelectorAll(".bar").forEach((b) => b.classList.remove("top"));
    const saliency = card.querySelector(".saliency canvas");
    if (saliency) saliency.getContext("2d").clearRect(0, 0, 28, 28);
  });
  $("seen").getContext("2d").clearRect(0, 0, 28, 28);
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
  setStatus(statusLine());
}

// ---------- threshold ----------
$("threshold").addEventListener("input", (event) => {
  state.threshold = Number(event.target.value);
  $("threshold-value").textContent = state.threshold.toFixed(2);
  if (state.last) showAnswer(state.last);  // the verdicts change at once; bars stay
});

// ---------- saving ----------
function updateSaveButton() {
  $("save").disabled = state.strokes.length === 0 || $("label").value === "";
}
$("label").addEventListener("change", updateSaveButton);
$("save").addEventListener("click", async () => {
  try {
    const saved = await api("/api/save", { image: pad.toDataURL("image/png"), label: Number($("label").value) });
    $("save-status").textContent = `Saved ${saved.file} (${saved.count} in ${saved.folder})`;
    clearPad();
  } catch (error) {
    $("save-status").textContent = `Not saved: ${error.message}`;
  }
});
