# mutant: the accuracies count the correct predictions instead of dividing by the number of examples
# cell: def binary_accuracy(logits, targets):
# loses: q3
def binary_accuracy(logits, targets):
    preds = (logits > 0).long()
    return (preds == targets.long()).float().sum().item()


def multiclass_accuracy(logits, targets):
    return (logits.argmax(dim=1) == targets).float().sum().item()
