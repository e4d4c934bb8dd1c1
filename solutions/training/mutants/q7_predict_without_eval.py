# mutant: predict runs the model in training mode (dropout active), without model.eval()
# cell: def get_device():
# loses: q7
def get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def predict(model, X):
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(X.to(device))
    return logits.argmax(dim=1).cpu()
