// digitnet drawing app, part 3 of 4: the "test set" tab (MNIST test images, every model's guess).
"use strict";

// ---------- test set tab ----------
async function showTestImage(index) {
  const t = state.test;
  try {
    const item = await api(`/api/testset/${index}`);
    t.index = item.index;
    t.size = item.size;
    $("index").value = item.index;
    $("index").max = item.size - 1;
    paint($("test-image"), item.image, (v) => inkOnBlack(v / 255));
    $("test-label").textContent = item.label;
    const cards = $("test-answers").querySelectorAll(".model");
    item.models.forEach((m, i) => cards[i] && fillCard(cards[i], m, { label: item.label }));
    const where = t.mistakes ? t.mistakes.indices.indexOf(item.index) : -1;
    $("position").textContent = where >= 0 ? `mistake ${where + 1} of ${t.mistakes.count}` : `of ${item.size}`;
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

async function updateMistakes() {
  const t = state.test;
  t.mistakes = null;
  $("mistakes-info").textContent = "";
  if (!$("only-mistakes").checked) return;
  const name = $("mistakes-model").value;
  $("mistakes-info").textContent = "finding mistakes…";
  try {
    t.mistakes = await api(`/api/testset/mistakes?model=${encodeURIComponent(name)}`);
    $("mistakes-info").textContent =
      `${t.mistakes.count} mistakes, test accuracy ${(100 * t.mistakes.accuracy).toFixed(2)}%`;
    if (t.mistakes.count) showTestImage(t.mistakes.indices.find((i) => i >= t.index) ?? t.mistakes.indices[0]);
  } catch (error) {
    $("mistakes-info").textContent = error.message;
  }
}

$("prev").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
$("random").addEventListener("click", randomImage);
$("index").addEventListener("change", (e) => showTestImage(Math.max(0, Math.floor(Number(e.target.value) || 0))));
$("only-mistakes").addEventListener("change", updateMistakes);
$("mistakes-model").addEventListener("change", updateMistakes);
