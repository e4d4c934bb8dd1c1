# mutant: layout returns the contiguity as a bool tensor instead of a Python bool
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    a, b, c = x.shape
    return x.view(a, b * c)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": torch.tensor(x.is_contiguous())}
