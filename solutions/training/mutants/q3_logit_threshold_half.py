# mutant: binary accuracy thresholds the logits at 0.5 (that is a probability threshold)
# cell: def binary_accuracy(logits, targets):
# loses: q3
def binary_accuracy(logits, targets):
    preds = (logits > 0.5).long()
    return (preds == targets.long()).float().mean().item()


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean().item()
