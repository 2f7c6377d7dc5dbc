// digitnet drawing app, part 4 of 4: tabs, keyboard shortcuts and start-up.
// Talks to the JSON API of digitnet.app.server; see cards.js for the shared state.
"use strict";

// ---------- tabs and keys ----------
function selectTab(name) {
  for (const tab of ["draw", "test"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`panel-${tab}`).hidden = tab !== name;
  }
}
$("tab-draw").addEventListener("click", () => selectTab("draw"));
$("tab-test").addEventListener("click", () => selectTab("test"));

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, select, textarea")) return;
  if (!$("panel-draw").hidden) {
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); }
    if (event.key === "Escape") clearPad();
  } else {
    if (event.key === "ArrowLeft") step(-1);
    if (event.key === "ArrowRight") step(1);
    if (event.key === "r") randomImage();
  }
});

function statusLine() {
  const names = state.models.map((m) => m.name).join(", ");
  return `${state.models.length} model${state.models.length === 1 ? "" : "s"}: ${names}`;
}

// ---------- start ----------
async function start() {
  redraw();
  let info;
  try {
    info = await api("/api/models");
  } catch (error) {
    setStatus(`cannot reach the digitnet server: ${error.message}`, true);
    return;
  }
  state.models = info.models;
  state.threshold = info.threshold;
  $("threshold").value = info.threshold;
  $("threshold-value").textContent = info.threshold.toFixed(2);
  emptyCards($("answers"), true);
  emptyCards($("test-answers"), false);
  showNothingDrawn();
  $("mistakes-model").replaceChildren(...info.models.map((m) => el("option", "", m.name)));
  setStatus(statusLine());
  if (info.testset.available) {
    state.test.size = info.testset.size;
    showTestImage(0);
  } else {
    $("test-message").hidden = false;
    $("test-message").textContent = `The test set tab is unavailable: ${info.testset.error}`;
    $("test-view").hidden = true;
    document.querySelector(".test-controls").hidden = true;
  }
}
start();
