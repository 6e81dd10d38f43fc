"""Settings for the project's own tests.

The suite runs on two cores with two xdist workers, each starting pytest and training
subprocesses. OpenBLAS's own threads on top of that oversubscribe the cores and spin (seen here:
a 0.6 s training took 10 s), so every BLAS call in the tests and their subprocesses uses one
thread. The benchmarks in bench/ measure with the machine's defaults instead.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
