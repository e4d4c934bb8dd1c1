# mutant: hard-codes the answer of the visible example instead of computing it
# cell: def double(t):
# loses: q1
def double(t):
    return torch.full((2,), 2.0)
