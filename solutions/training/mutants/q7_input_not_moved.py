# mutant: predict does not move X to the model's device
# cell: def get_device():
# loses: q7
def get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def predict(model, X):
    model.eval()
    with torch.no_grad():
        logits = model(X)
    return logits.argmax(dim=1).cpu()
