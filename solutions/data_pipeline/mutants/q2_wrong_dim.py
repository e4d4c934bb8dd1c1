# mutant: the statistics are taken over dim=1 (one per row) instead of dim=0 (one per column)
# cell: class StandardScaler:
# loses: q2
class StandardScaler:
    def fit(self, x):
        self.mean = x.mean(dim=1)
        std = x.std(dim=1, unbiased=False)
        self.std = torch.where(std == 0, torch.ones_like(std), std)
        return self

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
