"""Write examples/data/digit_patterns.npy: ten binarized scikit-learn digits, one per row."""

from pathlib import Path

import numpy as np

from ctdyn.memory import binarized_digits

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "data" / "digit_patterns.npy"
    np.save(target, binarized_digits())
    print(f"wrote {target}")
