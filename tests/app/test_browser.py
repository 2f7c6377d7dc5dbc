"""The drawing page in a real browser: Debian's Chromium driven by Playwright (never ``playwright install``).

Skipped, saying why, when /usr/bin/chromium or the playwright package is missing
(``apt-get install chromium``; ``pip install playwright``). Screenshots go to the test's tmp dir.
"""

import csv
import os
import shutil

import pytest

from app_helpers import LiveServer
from digitnet.app import DrawingApp, TestSet

CHROMIUM = os.environ.get("DIGITNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions"]

if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(f"Chromium not found at {CHROMIUM} (install Debian's: apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                                                              "(pip install playwright)")


@pytest.fixture(scope="module")
def browser():
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def served(models, testset_arrays, tmp_path):
    images, labels = testset_arrays
    server = LiveServer(DrawingApp(models, TestSet(images, labels), save_dir=tmp_path / "drawings"))
    yield server
    server.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1180, "height": 820}, device_scale_factor=1)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.goto(served.url)
    page.wait_for_selector("#answers .model")
    yield page
    context.close()
    assert not problems, problems


def draw(page, strokes):
    """Mouse strokes on the pad; points are in 0..1 of the pad's size."""
    box = page.locator("#pad").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=8)
        page.mouse.up()


SEVEN = [[(0.25, 0.22), (0.75, 0.22), (0.45, 0.82)], [(0.35, 0.52), (0.62, 0.52)]]


def wait_for_answers(page):
    page.wait_for_function("""() => {
        const cards = document.querySelectorAll('#answers .model');
        return cards.length > 0 && [...cards].every(c => c.querySelector('.guess').textContent !== '–');
    }""", timeout=10000)


def seen_ink(page):
    return page.evaluate("""() => {
        const data = document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data;
        let ink = 0; for (let i = 0; i < data.length; i += 4) ink += data[i]; return ink;
    }""")


def test_drawing_a_digit_shows_ten_bars_per_model(page, tmp_path):
    draw(page, SEVEN)
    wait_for_answers(page)
    cards = page.locator("#answers .model")
    assert cards.count() == 2
    for i in range(2):
        card = cards.nth(i)
        assert card.locator(".bar").count() == 10
        assert card.locator(".bar.top").count() == 1
        guess = card.locator(".guess").inner_text()
        assert guess == "?" or guess == card.locator(".bar.top .digit").inner_text()
        assert card.locator(".confidence").inner_text().strip()
        heights = card.locator(".fill").evaluate_all("els => els.map(e => parseFloat(e.style.height))")
        assert len(heights) == 10 and abs(sum(heights) - 100) < 1  # probabilities sum to 1
    assert seen_ink(page) > 0, "the 28x28 image the network sees should be drawn"
    page.screenshot(path=str(tmp_path / "draw.png"), full_page=True)
    assert (tmp_path / "draw.png").stat().st_size > 10_000


def test_undo_and_clear_work_stroke_by_stroke(page):
    draw(page, SEVEN)
    wait_for_answers(page)
    page.click("#undo")  # removes the cross-bar only
    page.wait_for_timeout(300)
    assert page.locator("#answers .model .guess").first.inner_text() != "–"
    page.click("#clear")
    page.wait_for_function("document.querySelector('#answers .model .guess').textContent === '–'")
    assert page.locator("#undo").is_disabled() and seen_ink(page) == 0


def test_threshold_slider_turns_answers_unsure(page):
    draw(page, SEVEN)
    wait_for_answers(page)
    page.locator("#threshold").fill("1")
    assert page.locator("#threshold-value").inner_text() == "1.00"
    assert page.locator("#answers .model.unsure").count() == 2
    assert "not sure" in page.locator("#answers .model .confidence").first.inner_text()


def test_save_button_writes_the_drawing_with_its_label(page, served):
    draw(page, SEVEN)
    wait_for_answers(page)
    page.select_option("#label", "7")
    page.click("#save")
    page.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")
    folder = served.app.save_dir
    rows = list(csv.reader(open(folder / "labels.csv")))
    assert rows[0] == ["file", "label"] and rows[1][1] == "7" and (folder / rows[1][0]).exists()


def test_testset_tab_browses_images_and_mistakes(page, served, testset_arrays, tmp_path):
    images, labels = testset_arrays
    page.click("#tab-test")
    page.wait_for_function(f"document.getElementById('test-label').textContent === '{labels[0]}'")
    page.click("#next")
    page.wait_for_function(f"document.getElementById('test-label').textContent === '{labels[1]}'")
    assert page.locator("#test-answers .model").count() == 2
    page.check("#only-mistakes")
    page.wait_for_function("document.getElementById('mistakes-info').textContent.includes('mistakes')")
    page.wait_for_function("document.getElementById('position').textContent.startsWith('mistake')")
    assert page.locator("#test-answers .model.wrong").count() >= 1  # the selected model got this one wrong
    page.screenshot(path=str(tmp_path / "testset.png"), full_page=True)
