# mutant: the accuracies are averaged with numpy, so they come back as numpy.float64, not float
# cell: def binary_accuracy(logits, targets):
# loses: q3
import numpy as np


def binary_accuracy(logits, targets):
    preds = (logits > 0).long()
    return np.mean((preds == targets.long()).numpy())


def multiclass_accuracy(logits, targets):
    return np.mean((logits.argmax(dim=1) == targets).numpy())
