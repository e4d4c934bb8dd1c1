"""Makes patients.csv, the small synthetic table of this assignment (seeded, no download).

    .venv/bin/python solutions/data_pipeline/make_data.py

300 rows: an id, five numeric features on very different scales, a short free-text note, the
split ("train"/"test") and a 0/1 label that depends on the features and on words in the note.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(20261122)
n = 300

age = rng.integers(18, 91, n)
income = np.round(rng.lognormal(10.8, 0.5, n), 2)
cholesterol = np.round(rng.normal(200, 35, n), 1)
bmi = np.round(rng.normal(26, 4.5, n), 1)
steps_per_day = rng.integers(800, 18000, n)

good = ["feels fine", "walks daily", "no complaints", "sleeps well", "active and healthy",
        "regular checkups", "eats vegetables"]
bad = ["chest pain", "short of breath", "smokes daily", "high blood pressure", "feels tired",
       "family history of heart disease", "dizzy at night"]
risk = 0.04 * (age - 50) + 0.02 * (cholesterol - 200) + 0.15 * (bmi - 26) - 0.0002 * (steps_per_day - 8000)
risk += rng.normal(0, 1.0, n)
label = (risk > 0.3).astype(int)
notes = []
for y in label:
    words = list(rng.choice(bad if y and rng.random() < 0.8 else good, size=rng.integers(1, 3), replace=False))
    if rng.random() < 0.5:
        words.append(str(rng.choice(good + bad)))
    text = " and ".join(words)
    notes.append(text[0].upper() + text[1:] if rng.random() < 0.5 else text)
split = np.where(rng.random(n) < 0.8, "train", "test")

df = pd.DataFrame({"patient_id": [f"P{i:04d}" for i in range(1, n + 1)], "age": age, "income": income,
                   "cholesterol": cholesterol, "bmi": bmi, "steps_per_day": steps_per_day,
                   "notes": notes, "split": split, "label": label})
df.to_csv(HERE / "patients.csv", index=False)
print(f"wrote patients.csv: {len(df)} rows, {(split == 'train').sum()} train, label mean {label.mean():.2f}")
