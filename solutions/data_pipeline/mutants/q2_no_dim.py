# mutant: the mean and std are taken over the whole tensor instead of per column (dim=0)
# cell: class StandardScaler:
# loses: q2, q3
class StandardScaler:
    def fit(self, x):
        self.mean = x.mean()
        std = x.std(unbiased=False)
        self.std = torch.where(std == 0, torch.ones_like(std), std)
        return self

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
