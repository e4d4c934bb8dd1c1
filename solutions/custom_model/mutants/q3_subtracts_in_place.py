# mutant: forward subtracts the mean from the caller's x in place (x -= self.mean) and returns x
# cell: class RunningMean(nn.Module):
# loses: q3
class RunningMean(nn.Module):
    def __init__(self, num_features, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("last_mean", torch.zeros(num_features), persistent=False)

    def forward(self, x):
        if self.training:
            batch_mean = x.detach().mean(dim=0)
            self.last_mean = batch_mean
            self.mean = (1 - self.momentum) * self.mean + self.momentum * batch_mean
        x -= self.mean
        return x
