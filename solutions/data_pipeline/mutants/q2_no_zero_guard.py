# mutant: a constant column (std 0) is not guarded, so transform divides by zero
# cell: class StandardScaler:
# loses: q2
class StandardScaler:
    def fit(self, x):
        self.mean = x.mean(dim=0)
        self.std = x.std(dim=0, unbiased=False)
        return self

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
