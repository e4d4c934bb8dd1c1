# mutant: merge_last_two uses flatten(1), which silently copies a non-contiguous tensor instead of raising
# cell: def merge_last_two(x):
# loses: q3
def merge_last_two(x):
    return x.flatten(1)


def layout(x):
    return {"shape": tuple(x.shape), "stride": x.stride(), "contiguous": x.is_contiguous()}
