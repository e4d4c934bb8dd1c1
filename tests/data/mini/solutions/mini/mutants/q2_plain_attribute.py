# mutant: stores the factor as a plain float, so it is not a parameter
# cell: class Scale(nn.Module):
# loses: q2
class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return x * self.factor
