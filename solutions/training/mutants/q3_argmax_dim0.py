# mutant: multiclass accuracy takes the argmax over dim=0 (over examples instead of classes)
# cell: def binary_accuracy(logits, targets):
# loses: q3
def binary_accuracy(logits, targets):
    preds = (logits > 0).long()
    return (preds == targets.long()).float().mean().item()


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=0) == targets).float().mean().item()
