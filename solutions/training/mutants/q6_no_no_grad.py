# mutant: evaluation without torch.no_grad(): gradients are tracked for nothing
# cell: def evaluate(model, X, y):
# loses: q6
def evaluate(model, X, y):
    model.eval()
    logits = model(X)
    loss = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy
