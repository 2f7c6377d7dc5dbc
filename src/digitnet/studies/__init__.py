"""Reproducible comparison studies (the seeds' questions, measured again).

    from digitnet.studies import compare, compare_loops
    compare("optimizers", train_size=10000, epochs=3, seeds=2)   # -> results dict; runs/compare-optimizers-*/
    compare_loops()                                              # element-wise vs vectorised, seed's setup

Modules: variants (what each study varies), compare (the training runs),
loop_speed (loops vs vectorised timing and memory), report (tables, PNGs).
"""

from digitnet.studies.compare import compare, load_subsets, run_one
from digitnet.studies.loop_speed import compare_loops
from digitnet.studies.variants import BASE, KINDS, variants

__all__ = ["compare", "compare_loops", "load_subsets", "run_one", "variants", "BASE", "KINDS"]
