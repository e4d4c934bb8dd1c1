# mutant: count_params counts the parameter tensors instead of the values inside them
# cell: def lookup(model, path, kind):
# loses: q5
def lookup(model, path, kind):
    if kind == "module":
        return model.get_submodule(path)
    if kind == "parameter":
        return model.get_parameter(path)
    if kind == "buffer":
        return model.get_buffer(path)
    raise ValueError(f"unknown kind {kind!r}: use 'module', 'parameter' or 'buffer'")


def count_params(model, path):
    return len(list(model.get_submodule(path).parameters()))
