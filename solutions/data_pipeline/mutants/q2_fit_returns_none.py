# mutant: fit does not return self, so StandardScaler().fit(x) gives None
# cell: class StandardScaler:
# loses: q2, q3
class StandardScaler:
    def fit(self, x):
        self.mean = x.mean(dim=0)
        std = x.std(dim=0, unbiased=False)
        self.std = torch.where(std == 0, torch.ones_like(std), std)

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
