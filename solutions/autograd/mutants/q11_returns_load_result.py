# mutant: load_weights returns what load_state_dict returns, not the model
# cell: def save_weights(model, path):
# loses: q11
def save_weights(model, path):
    torch.save(model.state_dict(), path)


def load_weights(model, path):
    return model.load_state_dict(torch.load(path))
