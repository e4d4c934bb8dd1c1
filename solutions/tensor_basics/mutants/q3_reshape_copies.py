# mutant: merge_last_two uses reshape, which silently copies a non-contiguous tensor instead of failing
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.reshape(a, b * c)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": x.is_contiguous()}
