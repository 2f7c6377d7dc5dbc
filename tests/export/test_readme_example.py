"""The README's onnxruntime example runs as printed, with digitnet made impossible to import."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from export_helpers import ort  # noqa: F401  (skips this module without onnxruntime)
from PIL import Image

from digitnet import zoo
from digitnet.export import to_onnx

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK_DIGITNET = """
import sys
class _NoDigitnet:
    def find_spec(self, name, path=None, target=None):
        if name == "digitnet" or name.startswith("digitnet."):
            raise ImportError("digitnet is blocked: the example must not need it")
sys.meta_path.insert(0, _NoDigitnet())
"""


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Export and model cards") :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_example_runs_without_digitnet(tmp_path):
    code = readme_example()
    assert not re.search(r"^\s*(import|from) digitnet", code, re.MULTILINE)
    model = zoo.build("mlp-10", seed=3)
    to_onnx(model, tmp_path / "lenet5.onnx")  # the file name the example opens
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    Image.fromarray(digit).save(tmp_path / "digit.png")
    run = subprocess.run(
        [sys.executable, "-c", BLOCK_DIGITNET + code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    expected = int(model.predict(digit[None, None].astype(np.float32) / 255)[0])
    assert re.fullmatch(rf"digit {expected} \(\d+\.\d%\)\n", run.stdout), run.stdout
