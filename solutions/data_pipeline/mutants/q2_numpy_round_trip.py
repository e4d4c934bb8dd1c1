# mutant: fit goes through numpy and comes back as float32 whatever the input dtype (a float64 x gets float32 statistics)
# cell: class StandardScaler:
# loses: q2
class StandardScaler:
    def fit(self, x):
        a = x.numpy()
        std = a.std(axis=0)
        std[std == 0] = 1.0
        self.mean = torch.tensor(a.mean(axis=0), dtype=torch.float32)
        self.std = torch.tensor(std, dtype=torch.float32)
        return self

    def transform(self, x):
        return (x - self.mean) / self.std

    def inverse_transform(self, z):
        return z * self.std + self.mean
