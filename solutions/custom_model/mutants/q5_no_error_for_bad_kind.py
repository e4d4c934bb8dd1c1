# mutant: lookup silently returns None for an unknown kind instead of raising ValueError
# cell: def lookup(model, path, kind):
# loses: q5
def lookup(model, path, kind):
    if kind == "module":
        return model.get_submodule(path)
    if kind == "parameter":
        return model.get_parameter(path)
    if kind == "buffer":
        return model.get_buffer(path)
    return None


def count_params(model, path):
    return sum(p.numel() for p in model.get_submodule(path).parameters())
