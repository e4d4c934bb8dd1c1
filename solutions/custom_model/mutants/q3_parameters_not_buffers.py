# mutant: mean and last_mean are nn.Parameter(requires_grad=False) instead of buffers
# cell: class RunningMean(nn.Module):
# loses: q3
class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)
        self.last_mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)

    def forward(self, x):
        if self.training:
            batch_mean = x.detach().mean(dim=0)
            self.last_mean.copy_(batch_mean)
            self.mean.mul_(1 - self.momentum).add_(self.momentum * batch_mean)
        return x - self.mean
