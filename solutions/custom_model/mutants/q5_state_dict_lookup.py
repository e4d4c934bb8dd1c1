# mutant: parameters and buffers are looked up in state_dict(), which gives detached copies, not the objects inside the model
# cell: def lookup(model, path, kind):
# loses: q5
def lookup(model, path, kind):
    if kind == "module":
        return model.get_submodule(path)
    if kind in ("parameter", "buffer"):
        return model.state_dict()[path]
    raise ValueError(f"unknown kind {kind!r}: use 'module', 'parameter' or 'buffer'")


def count_params(model, path):
    return sum(p.numel() for p in model.get_submodule(path).parameters())
