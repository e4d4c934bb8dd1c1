# mutant: evaluation without model.eval(): dropout is still active
# cell: def evaluate(model, X, y):
# loses: q6
def evaluate(model, X, y):
    with torch.no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy
