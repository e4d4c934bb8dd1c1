# mutant: lookup and count_params follow the path with getattr over path.split("."), which fails for the empty path (the model itself)
# cell: def lookup(model, path, kind):
# loses: q5
def _walk(model, path):
    obj = model
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def lookup(model, path, kind):
    if kind in ("module", "parameter", "buffer"):
        return _walk(model, path)
    raise ValueError(f"unknown kind {kind!r}: use 'module', 'parameter' or 'buffer'")


def count_params(model, path):
    return sum(p.numel() for p in _walk(model, path).parameters())
