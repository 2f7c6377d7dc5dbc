"""The drawing page in a real browser: Debian's Chromium driven by Playwright (never ``playwright install``).

Skipped, saying why, when /usr/bin/chromium or the playwright package is missing
(``apt-get install chromium``; ``pip install playwright``). Screenshots go to the test's tmp dir, or to
``$DIGITNET_SCREENSHOTS`` when set. Layout checks run at a 1280x800 desktop, phones with touch
(390x844, 360x640) and a phone on its side.
"""

import csv
import itertools
import os
import shutil
from pathlib import Path

import pytest
from app_helpers import LiveServer

from digitnet.app import AppModel, DrawingApp, TestSet
from digitnet.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential

CHROMIUM = os.environ.get("DIGITNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
]

if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(
        f"Chromium not found at {CHROMIUM} (install Debian's: apt-get install chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)


@pytest.fixture(scope="module")
def browser():
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "has_touch": True,
        "is_mobile": True,
    },
    "small-phone": {
        "viewport": {"width": 360, "height": 640},
        "device_scale_factor": 2,
        "has_touch": True,
        "is_mobile": True,
    },
    "landscape": {
        "viewport": {"width": 844, "height": 390},
        "device_scale_factor": 2,
        "has_touch": True,
        "is_mobile": True,
    },
}


def conv_model():
    """A small untrained CNN (conv, pool, dense): the layer view then has maps and bars."""
    layers = [Conv2D(1, 4, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(16), ReLU(), Dense(10)]
    return AppModel("conv", Sequential(layers, input_shape=(1, 28, 28), seed=5))


@pytest.fixture(scope="module")
def served(models, testset_arrays, tmp_path_factory):
    images, labels = testset_arrays
    app = DrawingApp([conv_model(), *models], TestSet(images, labels), save_dir=tmp_path_factory.mktemp("drawings"))
    server = LiveServer(app)
    yield server
    server.close()


def open_page(browser, served, kind="desktop"):
    context = browser.new_context(**VIEWPORTS[kind])
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on(
        "console", lambda msg: page.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
    )
    page.goto(served.url)
    page.wait_for_selector("#answers .model")
    return context, page


@pytest.fixture(params=["desktop", "phone"])
def any_page(request, browser, served):
    context, page = open_page(browser, served, request.param)
    page.kind = request.param
    yield page
    context.close()
    assert not page.problems, page.problems


@pytest.fixture
def page(browser, served):
    context, page = open_page(browser, served)
    page.kind = "desktop"
    yield page
    context.close()
    assert not page.problems, page.problems


def shots(tmp_path):
    folder = Path(os.environ.get("DIGITNET_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def draw(page, strokes):
    """Strokes on the pad (points in 0..1 of its size): touch events on a touch page, else the mouse."""
    box = page.locator("#pad").bounding_box()

    def at(x, y):
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    touch = VIEWPORTS[getattr(page, "kind", "desktop")].get("has_touch", False)
    cdp = page.context.new_cdp_session(page) if touch else None
    for stroke in strokes:
        if touch:
            points = [at(*stroke[0])]
            for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
                points += [at(x0 + (x1 - x0) * t / 8, y0 + (y1 - y0) * t / 8) for t in range(1, 9)]
            cdp.send(
                "Input.dispatchTouchEvent",
                {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]},
            )
            for x, y in points[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            page.mouse.move(*at(*stroke[0]))
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(*at(x, y), steps=8)
            page.mouse.up()


SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)], [(0.35, 0.52), (0.62, 0.52)]]


def wait_for_answers(page):
    page.wait_for_function(
        """() => {
        const cards = document.querySelectorAll('#answers .model');
        return cards.length > 0 && [...cards].every(c => c.querySelector('.guess').textContent !== '–');
    }""",
        timeout=10000,
    )


def seen_ink(page):
    return page.evaluate("""() => {
        const data = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;
        let ink = 0; for (let i = 0; i < data.length; i += 4) ink += data[i]; return ink;
    }""")


OVERLAPS = """(selector) => {
    const boxes = [...document.querySelectorAll(selector)].filter(e => e.offsetParent && e.textContent.trim())
        .map(e => ({e, text: e.textContent, r: e.getBoundingClientRect(), size: parseFloat(getComputedStyle(e).fontSize)}));
    const hits = [];
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        if (boxes[i].e.contains(boxes[j].e) || boxes[j].e.contains(boxes[i].e)) continue;  // a label and its output
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
            hits.push(boxes[i].text + ' / ' + boxes[j].text);
    }
    return {n: boxes.length, hits, smallest: Math.min(...boxes.map(b => b.size))};
}"""
LABELS = (
    "#answers .pct, #answers .digit, #answers .confidence, #answers .guess, #answers .model-head span, "
    "#top-digit, #top-verdict, #top-model, .chip, .layer-name, .layer-meta, #panel-draw label, #panel-draw output, "
    "#panel-draw button"
)


@pytest.mark.parametrize("any_page", ["desktop", "phone", "small-phone", "landscape"], indirect=True)
def test_top_answer_is_in_view_after_drawing_and_labels_never_collide(any_page, tmp_path):
    page = any_page
    draw(page, SEVEN)
    wait_for_answers(page)
    page.wait_for_function("document.getElementById('layers').children.length > 0", timeout=10000)
    assert page.evaluate("window.scrollY") == 0, "drawing must not scroll the page"
    top = page.locator("#top").bounding_box()
    view = page.viewport_size
    assert page.locator("#top-digit").inner_text() not in ("", "–")
    assert 0 <= top["y"] and top["y"] + top["height"] <= view["height"], (top, view)
    pad = page.locator("#pad").bounding_box()
    card = page.locator(".pad-card").bounding_box()
    if page.kind != "landscape":  # on its side the pad is as tall as the screen allows, the answer beside it
        assert pad["width"] >= 0.85 * (card["width"] - 24), "the pad should use the card's width"
    assert pad["y"] + pad["height"] <= view["height"], "the whole pad is on the screen"
    assert pad["x"] >= 0 and pad["x"] + pad["width"] <= view["width"]
    result = page.evaluate(OVERLAPS, LABELS)
    assert result["n"] > 60 and not result["hits"], result["hits"]
    assert result["smallest"] >= 12, f"labels must be at least 12 px, smallest is {result['smallest']}"
    targets = page.evaluate("""() => [...document.querySelectorAll(
            '#panel-draw button, #panel-draw select, #panel-draw input, [role=tab]')].filter(e => e.offsetParent)
            .map(e => { const r = e.getBoundingClientRect(); return [e.id || e.className, r.width, r.height]; })""")
    small = [t for t in targets if t[1] < 44 or t[2] < 44]
    assert not small, f"touch targets under 44 px: {small}"
    folder = shots(tmp_path)
    page.screenshot(path=str(folder / f"draw-{page.kind}.png"))
    page.screenshot(path=str(folder / f"draw-{page.kind}-full.png"), full_page=True)
    assert (folder / f"draw-{page.kind}.png").stat().st_size > 10_000


def test_drawing_a_digit_shows_ten_bars_per_model(page):
    draw(page, SEVEN)
    wait_for_answers(page)
    cards = page.locator("#answers .model")
    assert cards.count() == 3
    for i in range(3):
        card = cards.nth(i)
        assert card.locator(".bar").count() == 10
        assert card.locator(".bar.top").count() == 1
        guess = card.locator(".guess").inner_text()
        assert guess == "?" or guess == card.locator(".bar.top .digit").inner_text()
        assert card.locator(".confidence").inner_text().strip()
        widths = card.locator(".fill").evaluate_all("els => els.map(e => parseFloat(e.style.width))")
        assert len(widths) == 10 and abs(sum(widths) - 100) < 1  # probabilities sum to 1
    assert seen_ink(page) > 0, "the 28x28 image the network sees should be drawn"
    announced = page.locator("#announce")
    assert announced.get_attribute("aria-live") == "polite"
    page.wait_for_function("document.getElementById('announce').textContent.includes('conv:')")
    page.locator("#answers .saliency .enlarge").first.click()
    assert page.locator("#zoom").evaluate("d => d.open")
    assert page.locator("#zoom-img").evaluate("i => i.naturalWidth") == 28
    page.click("#zoom-close")


def test_layer_view_has_one_panel_per_layer_and_follows_the_drawing(page, served):
    draw(page, SEVEN[:1])
    page.wait_for_function("document.getElementById('layers').children.length === 7", timeout=10000)
    names = page.locator("#layers .layer-name").evaluate_all("hs => hs.map(h => h.textContent)")
    model = served.app.by_name["conv"].model
    assert names == [f"{i}  {layer.describe()}" for i, layer in enumerate(model.layers)]
    summary = model.summary()
    assert all(name.split("  ", 1)[1] in summary for name in names)
    assert page.locator("#layers .layer").nth(0).locator(".tile").count() == 4  # 4 conv maps
    assert page.locator("#layers .layer").nth(6).locator("canvas").count() == 1  # logits as bars
    version = int(page.locator("#layers").get_attribute("data-version"))
    first = page.locator("#layers .tile img").first.get_attribute("src")
    draw(page, SEVEN[1:])
    page.wait_for_function(f"Number(document.getElementById('layers').dataset.version) > {version}", timeout=10000)
    page.wait_for_timeout(400)  # a last debounced update may follow
    assert page.locator("#layers .tile img").first.get_attribute("src") != first, "maps follow the drawing"
    page.locator("#layers .tile").nth(2).click()
    assert page.locator("#zoom").evaluate("d => d.open") and "map 2" in page.locator("#zoom-caption").inner_text()
    page.keyboard.press("Escape")
    page.select_option("#insides-model", "mlp")
    page.wait_for_function("document.getElementById('layers').children.length === 3", timeout=10000)


def test_pen_size_eraser_undo_and_clear(page):
    draw(page, SEVEN)
    wait_for_answers(page)
    page.wait_for_timeout(300)
    full = seen_ink(page)
    page.click("#eraser")
    assert page.locator("#eraser").get_attribute("aria-pressed") == "true"
    page.locator("#brush").fill("14")
    draw(page, [[(0.2, 0.22), (0.8, 0.22)]])  # rub out the top bar
    page.wait_for_function(
        f"""() => {{ const d = document.getElementById('seen').getContext('2d')
        .getImageData(0, 0, 28, 28).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i];
        return s !== {full}; }}""",
        timeout=10000,
    )
    page.click("#undo")  # removes the eraser stroke only
    page.wait_for_timeout(300)
    assert page.locator("#answers .model .guess").first.inner_text() != "–"
    page.click("#clear")
    page.wait_for_function("document.querySelector('#answers .model .guess').textContent === '–'")
    assert page.locator("#undo").is_disabled() and seen_ink(page) == 0


def test_threshold_one_never_shows_a_rounded_100_percent(page):
    draw(page, SEVEN)
    wait_for_answers(page)
    page.locator("#threshold").fill("1")
    assert page.locator("#threshold-value").inner_text() == "1.00"
    assert page.locator("#answers .model.unsure").count() == 3
    texts = page.locator("#answers .model .confidence").all_inner_texts() + [page.locator("#top-verdict").inner_text()]
    assert all("not sure" in t and "(100%)" not in t for t in texts), texts
    assert page.evaluate("[percent(0.9996), percent(0.99949), percent(1), percent(0.004)]") == [
        "99.9%",
        "99.9%",
        "100%",
        "0.4%",
    ]


def test_save_resets_the_label_and_keeps_a_session_score(page, served):
    for _ in range(2):
        draw(page, SEVEN)
        wait_for_answers(page)
        page.select_option("#label", "7")
        page.click("#save")
        page.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")
        page.wait_for_function("document.getElementById('label').value === ''")
        page.evaluate("document.getElementById('save-status').textContent = ''")
    folder = served.app.save_dir
    with open(folder / "labels.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["file", "label"] and rows[-1][1] == "7" and (folder / rows[-1][0]).exists()
    score = page.locator("#score li").all_inner_texts()
    assert len(score) == 3 and all(t.split(": ")[1].startswith("right ") and t.endswith(" of 2") for t in score)
    with page.expect_download() as download:
        page.click("#download")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("file,label,conv guess,conv confidence,conv right") and len(lines) == 3
    assert lines[1].split(",")[1] == "7"


def test_tabs_work_with_arrow_keys(page):
    page.focus("#tab-draw")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-test"
    assert page.locator("#tab-test").get_attribute("aria-selected") == "true"
    assert page.locator("#panel-test").is_visible() and not page.locator("#panel-draw").is_visible()
    assert page.locator("#tab-draw").get_attribute("tabindex") == "-1"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.id") == "tab-draw" and page.locator("#panel-draw").is_visible()
    page.keyboard.press("End")
    assert page.locator("#tab-test").get_attribute("aria-selected") == "true"
    page.keyboard.press("Home")
    assert page.locator("#tab-draw").get_attribute("aria-selected") == "true"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('button, select, input, canvas#pad')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.id || e.className)""")
    assert not unlabelled, f"controls without a label: {unlabelled}"


def test_testset_tab_mistakes_grid_and_drawing_over(any_page, served, testset_arrays, tmp_path):
    page = any_page
    labels = testset_arrays[1]
    page.click("#tab-test")
    page.wait_for_function(f"document.getElementById('test-label').textContent === '{labels[0]}'")
    page.click("#next")
    page.wait_for_function(f"document.getElementById('test-label').textContent === '{labels[1]}'")
    assert page.locator("#test-answers .model").count() == 3
    assert page.locator("#test-answers .saliency canvas").count() == 3
    page.check("#only-mistakes")
    page.wait_for_function("document.querySelectorAll('#mistake-grid .thumb').length > 0")
    for name in ("mlp", "linear"):
        page.select_option("#mistakes-model", name)
        wrong = served.app.testset.mistakes(served.app.by_name[name])["indices"]
        page.wait_for_function(f"document.getElementById('mistakes-info').textContent.startsWith('{len(wrong)} ')")
        page.wait_for_function("document.getElementById('position').textContent.startsWith('mistake 1 of')")
        assert page.locator("#index").input_value() == str(wrong[0]), "a new model starts at its first mistake"
        thumbs = page.locator("#mistake-grid .thumb")
        assert thumbs.count() == min(len(wrong), 120)
        assert [int(i) for i in thumbs.evaluate_all("ts => ts.map(t => t.dataset.index)")] == wrong[:120]
    thumbs.nth(1).click()
    page.wait_for_function("document.getElementById('position').textContent.startsWith('mistake 2 of')")
    assert page.locator("#test-label").inner_text() == str(labels[wrong[1]])
    assert page.locator("#test-answers .model[data-model=linear]").evaluate("c => c.classList.contains('wrong')")
    assert not page.evaluate(OVERLAPS, ".thumb-label, #test-answers .pct, #test-answers .digit")["hits"]
    page.screenshot(path=str(shots(tmp_path) / f"testset-{page.kind}.png"), full_page=True)
    page.click("#draw-over")
    assert page.locator("#panel-draw").is_visible() and page.locator("#pad-note").is_visible()
    assert f"test image {wrong[1]}" in page.locator("#pad-note").inner_text()
    wait_for_answers(page)
    assert seen_ink(page) > 0


def test_a_rejected_drawing_says_not_a_digit_and_why(page):
    """The recognizer may answer "not a digit" with a reason: the page shows it under the pad and on the card."""

    def reject_first(route):
        response = route.fetch()
        body = response.json()
        body["models"][0].update(not_a_digit=True, reason="too little ink", score=0.02)
        route.fulfill(response=response, json=body)

    page.route("**/api/predict", reject_first)
    draw(page, SEVEN[1:])
    page.wait_for_function("document.getElementById('top-verdict').textContent.startsWith('not a digit')")
    assert page.locator("#top-verdict").inner_text() == "not a digit — too little ink"
    assert page.locator("#top").get_attribute("class") == "topguess rejected"
    card = page.locator("#answers .model").first
    assert "rejected" in card.get_attribute("class") and card.locator(".guess").inner_text() == "×"
    assert card.locator(".confidence").inner_text() == "not a digit — too little ink"
    page.wait_for_function("document.getElementById('announce').textContent.includes('conv: not a digit')")
