# mutant: lookup uses getattr(model, path), which cannot follow a dotted path like '2.1.weight'
# cell: def lookup(model, path, kind):
# loses: q5
def lookup(model, path, kind):
    if kind in ("module", "parameter", "buffer"):
        return getattr(model, path)
    raise ValueError(f"unknown kind {kind!r}: use 'module', 'parameter' or 'buffer'")


def count_params(model, path):
    return sum(p.numel() for p in model.get_submodule(path).parameters())
