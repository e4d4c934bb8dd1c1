# mutant: the accuracies are returned as tensors instead of Python floats (no .item())
# cell: def binary_accuracy(logits, targets):
# loses: q3
def binary_accuracy(logits, targets):
    preds = (logits > 0).long()
    return (preds == targets.long()).float().mean()


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean()
