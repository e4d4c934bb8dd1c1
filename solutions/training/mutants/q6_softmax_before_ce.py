# mutant: applies softmax to the logits before cross_entropy (softmax twice)
# cell: def evaluate(model, X, y):
# loses: q6
def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(X), dim=1)
        loss = F.cross_entropy(probs, y).item()
        accuracy = (probs.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy
