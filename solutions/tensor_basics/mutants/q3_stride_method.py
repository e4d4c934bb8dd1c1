# mutant: layout stores the bound method x.stride instead of calling x.stride()
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.view(a, b * c)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride, "contiguous": x.is_contiguous()}
