# mutant: get_device always returns "cpu", and predict moves X to get_device() instead of the model's device
# cell: def get_device():
# loses: q7
def get_device():
    return "cpu"


def predict(model, X):
    model.eval()
    with torch.no_grad():
        logits = model(X.to(get_device()))
    return logits.argmax(dim=1).cpu()
