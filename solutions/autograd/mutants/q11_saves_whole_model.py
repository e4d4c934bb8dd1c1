# mutant: saves the whole model object instead of its state_dict
# cell: def save_weights(model, path):
# loses: q11
def save_weights(model, path):
    torch.save(model, path)


def load_weights(model, path):
    loaded = torch.load(path, weights_only=False)
    model.load_state_dict(loaded.state_dict())
    return model
