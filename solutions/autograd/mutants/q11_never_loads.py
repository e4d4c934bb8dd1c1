# mutant: load_weights reads the file but never copies it into the model
# cell: def save_weights(model, path):
# loses: q11
def save_weights(model, path):
    torch.save(model.state_dict(), path)


def load_weights(model, path):
    state = torch.load(path)
    return model
