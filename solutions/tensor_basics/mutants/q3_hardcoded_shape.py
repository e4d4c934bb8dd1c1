# mutant: merge_last_two hard-codes the visible example's shape (2, 12)
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.view(2, 12)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": x.is_contiguous()}
