// digitnet drawing app, part 5 of 5: tabs (click or arrow keys), keyboard shortcuts, the enlarged view and start-up.
// Talks to the JSON API of digitnet.app.server; see cards.js for the shared state.
"use strict";

// ---------- tabs: one in the tab order, arrows / Home / End move between them ----------
const TABS = ["draw", "test"];
function selectTab(name, focus = false) {
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    button.setAttribute("aria-selected", String(tab === name));
    button.tabIndex = tab === name ? 0 : -1;
    $(`panel-${tab}`).hidden = tab !== name;
  }
  if (focus) $(`tab-${name}`).focus();
}
for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
$("tabs").addEventListener("keydown", (event) => {
  const current = TABS.findIndex((t) => $(`tab-${t}`).getAttribute("aria-selected") === "true");
  const moves = { ArrowRight: current + 1, ArrowDown: current + 1, ArrowLeft: current - 1, ArrowUp: current - 1,
                  Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  event.stopPropagation();
  selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length], true);
});

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, select, textarea, [role=tab]") || $("zoom").open) return;
  if (!$("panel-draw").hidden) {
    if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); undo(); }
    if (event.key === "Escape") clearPad();
    if (event.key === "e") setTool(!tools.erase);
  } else {
    if (event.key === "ArrowLeft") step(-1);
    if (event.key === "ArrowRight") step(1);
    if (event.key === "r") randomImage();
  }
});

// ---------- the enlarged view: click outside the picture or the button to close ----------
$("zoom-close").addEventListener("click", () => $("zoom").close());
$("zoom").addEventListener("click", (event) => { if (event.target === $("zoom")) $("zoom").close(); });

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
  emptyCards($("test-answers"), true);
  showNothingDrawn();
  const options = () => info.models.map((m) => el("option", "", m.name));
  $("mistakes-model").replaceChildren(...options());
  $("insides-model").replaceChildren(...options());
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
