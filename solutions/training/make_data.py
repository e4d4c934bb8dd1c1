"""Generates penguins.csv, the data set of the `training` assignment (seeded, so it is reproducible).

    .venv/bin/python solutions/training/make_data.py

Three penguin species with four body measurements, drawn from per-species normal distributions
whose means and spreads resemble the real Palmer penguins.  A small MLP separates them with well
over 90% accuracy; "is it a Gentoo?" is an easy binary task for logistic regression.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SEED = 20261122
#            count  bill_length_mm  bill_depth_mm  flipper_length_mm  body_mass_g
SPECIES = {
    "Adelie":    (120, (38.8, 2.4), (18.3, 1.1), (190.0, 6.0), (3700.0, 420.0)),
    "Chinstrap": (70,  (48.8, 2.6), (18.4, 1.0), (195.8, 6.5), (3733.0, 380.0)),
    "Gentoo":    (110, (47.5, 2.5), (15.0, 0.9), (217.2, 6.0), (5076.0, 480.0)),
}
ISLANDS = {"Adelie": ["Biscoe", "Dream", "Torgersen"], "Chinstrap": ["Dream"], "Gentoo": ["Biscoe"]}


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for name, (count, *stats) in SPECIES.items():
        values = np.column_stack([rng.normal(mu, sd, count) for mu, sd in stats])
        for bl, bd, fl, bm in values:
            rows.append({"species": name, "island": rng.choice(ISLANDS[name]),
                         "bill_length_mm": round(bl, 1), "bill_depth_mm": round(bd, 1),
                         "flipper_length_mm": round(fl), "body_mass_g": int(round(bm / 25) * 25)})
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    df.to_csv(HERE / "penguins.csv", index=False)
    print(f"wrote penguins.csv ({len(df)} rows)")


if __name__ == "__main__":
    main()
