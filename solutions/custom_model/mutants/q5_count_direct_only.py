# mutant: count_params uses parameters(recurse=False), so it misses the parameters of deeper submodules
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
    return sum(p.numel() for p in model.get_submodule(path).parameters(recurse=False))
