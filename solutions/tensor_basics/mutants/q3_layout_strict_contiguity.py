# mutant: layout decides contiguity with its own row-major stride check, which does not ignore size-1 dimensions as PyTorch does
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.view(a, b * c)


def layout(x):
    expected, contiguous = 1, True
    for size, step in reversed(list(zip(x.shape, x.stride()))):
        if step != expected:
            contiguous = False
        expected *= size
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": contiguous}
