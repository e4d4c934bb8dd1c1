# mutant: mean and last_mean are stored as plain tensor attributes instead of buffers
# cell: class RunningMean(nn.Module):
# loses: q3
class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.mean = torch.zeros(num_features)
        self.last_mean = torch.zeros(num_features)

    def forward(self, x):
        if self.training:
            batch_mean = x.detach().mean(dim=0)
            self.last_mean = batch_mean
            self.mean = (1 - self.momentum) * self.mean + self.momentum * batch_mean
        return x - self.mean
