# mutant: pixels_as_rows hard-codes the example's two channels in the final view
# cell: def pixels_as_rows(x):
# loses: q4
def pixels_as_rows(x):
    return x.permute(0, 2, 3, 1).contiguous().view(-1, 2)
