# mutant: the zero std is "fixed" with std.clamp(min=1e-8) whose result is never assigned, so a constant column still divides by 0
# cell: class StandardScaler:
# loses: q2
class StandardScaler:
    def fit(self, x):
        self.mean = x.mean(dim=0)
        self.std = x.std(dim=0, unbiased=False)
        self.std.clamp(min=1e-8)
        return self

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
