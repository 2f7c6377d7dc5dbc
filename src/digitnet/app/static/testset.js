// digitnet drawing app, part 4 of 5: the "test set" tab (MNIST test images, every model's guess and saliency,
// a grid of one model's mistakes, drawing over a test image).
"use strict";

async function showTestImage(index) {
  const t = state.test;
  try {
    const item = await api(`/api/testset/${index}`);
    t.index = item.index;
    t.size = item.size;
    t.item = item;
    $("index").value = item.index;
    $("index").max = item.size - 1;
    paint($("test-image"), item.image, (v) => inkOnBlack(v / 255));
    $("test-label").textContent = item.label;
    const input = item.image.map((row) => row.map((v) => v / 255));
    const cards = $("test-answers").querySelectorAll(".model");
    item.models.forEach((m, i) => {
      if (!cards[i]) return;
      fillCard(cards[i], m, { label: item.label });
      paintSaliency(cards[i].querySelector(".saliency canvas"), input, m.saliency);
    });
    const where = t.mistakes ? t.mistakes.indices.indexOf(item.index) : -1;
    $("position").textContent = where >= 0 ? `mistake ${where + 1} of ${t.mistakes.count}` : `of ${item.size}`;
    document.querySelectorAll("#mistake-grid .thumb").forEach((b) => {
      b.setAttribute("aria-current", String(Number(b.dataset.index) === item.index));
    });
  } catch (error) {
    $("position").textContent = error.message;
  }
}

function step(direction) {
  const t = state.test;
  if (t.mistakes && t.mistakes.count) {
    const list = t.mistakes.indices;
    let next = direction > 0 ? list.find((i) => i > t.index) : [...list].reverse().find((i) => i < t.index);
    if (next === undefined) next = direction > 0 ? list[0] : list[list.length - 1];
    showTestImage(next);
  } else if (t.size) {
    showTestImage((t.index + direction + t.size) % t.size);
  }
}

function randomImage() {
  const t = state.test;
  const list = t.mistakes && t.mistakes.count ? t.mistakes.indices : null;
  showTestImage(list ? list[Math.floor(Math.random() * list.length)] : Math.floor(Math.random() * t.size));
}

function thumb(m) {
  const button = el("button", "thumb");
  button.type = "button";
  button.dataset.index = m.index;
  button.setAttribute("aria-label", `test image ${m.index}: true ${m.label}, guessed ${m.prediction} ` +
    `(${percent(m.confidence)})`);
  const img = el("img", "pixels");
  img.src = m.image;
  img.alt = "";
  button.append(img, el("span", "thumb-label", `${m.label}→${m.prediction}`));
  button.addEventListener("click", async () => {
    await showTestImage(m.index);
    $("test-view").scrollIntoView({ block: "nearest" });  // on a phone the image is below the grid
  });
  return button;
}

async function loadMistakePage(offset) {
  const t = state.test;
  const name = $("mistakes-model").value;
  const page = await api(`/api/testset/mistakes?model=${encodeURIComponent(name)}&offset=${offset}`);
  if (offset === 0) $("mistake-grid").replaceChildren();
  $("mistake-grid").append(...page.page.map(thumb));
  const shown = offset + page.page.length;
  $("more-mistakes").hidden = shown >= page.count;
  $("more-mistakes").dataset.offset = shown;
  $("more-mistakes").textContent = `Show more (${shown} of ${page.count} shown)`;
  return page;
}

async function updateMistakes() {
  const t = state.test;
  t.mistakes = null;
  $("mistakes-info").textContent = "";
  const on = $("only-mistakes").checked;
  $("mistakes-box").hidden = !on;
  if (!on) { $("position").textContent = `of ${t.size}`; return; }
  $("mistakes-info").textContent = "finding mistakes…";
  try {
    t.mistakes = await loadMistakePage(0);
    $("mistakes-info").textContent = `${t.mistakes.count} mistakes, test accuracy ` +
      `${(100 * t.mistakes.accuracy).toFixed(2)}%`;
    $("mistakes-caption").textContent = `Mistakes of ${t.mistakes.model} (true→guessed); pick one to see it below.`;
    if (t.mistakes.count) showTestImage(t.mistakes.indices[0]);  // a new model starts at its first mistake
  } catch (error) {
    $("mistakes-info").textContent = error.message;
  }
}

// Put the test image on the pad (dark ink on white) to draw over it, erase parts, and watch the answer move.
function drawOverTestImage() {
  const item = state.test.item;
  if (!item) return;
  state.strokes = [];
  setBackground({ index: item.index, label: item.label, image: item.image });
  selectTab("draw");
  redraw();
  requestPrediction(true);
}

$("prev").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
$("random").addEventListener("click", randomImage);
$("index").addEventListener("change", (e) => showTestImage(Math.max(0, Math.floor(Number(e.target.value) || 0))));
$("only-mistakes").addEventListener("change", updateMistakes);
$("mistakes-model").addEventListener("change", updateMistakes);
$("more-mistakes").addEventListener("click", (e) => loadMistakePage(Number(e.target.dataset.offset)));
$("draw-over").addEventListener("click", drawOverTestImage);
