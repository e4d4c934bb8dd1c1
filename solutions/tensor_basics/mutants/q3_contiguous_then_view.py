# mutant: merge_last_two calls contiguous() first, so it copies instead of sharing storage
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.contiguous().view(a, b * c)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": x.is_contiguous()}
