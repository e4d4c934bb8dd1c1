# mutant: returns loss and accuracy as tensors instead of Python floats
# cell: def evaluate(model, X, y):
# loses: q6
def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=1) == y).float().mean()
    return loss, accuracy
