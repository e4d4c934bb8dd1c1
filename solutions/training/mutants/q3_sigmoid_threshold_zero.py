# mutant: binary accuracy thresholds the probabilities at 0 (every example becomes class 1)
# cell: def binary_accuracy(logits, targets):
# loses: q3
def binary_accuracy(logits, targets):
    preds = (torch.sigmoid(logits) > 0).long()
    return (preds == targets.long()).float().mean().item()


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().mean().item()
